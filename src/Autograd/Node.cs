// A node of the tape: one application of a differentiable op. Forward code creates it with its inputs and
// whatever it saved; Backward turns the output gradient into input gradients and hands them to the sink.
// Rule (after llm.c): parameter gradients accumulate with +=, activation gradients are written once and freed.
using System.Runtime.CompilerServices;

namespace Standalone.Autograd;

[InlineArray(4)]
internal struct InputSlots { private Variable? _element; }

public abstract class Node
{
    private InputSlots _inputs;
    internal int InputCount;
    internal int VisitStamp;
    private bool _released;

    public Variable Output { get; private set; } = null!;

    internal Variable? Input(int i) => _inputs[i];

    /// <summary>The variables this node consumed, in the op's argument order (absent optional inputs omitted).</summary>
    public IReadOnlyList<Variable> Inputs
    {
        get
        {
            var inputs = new List<Variable>(InputCount);
            for (int i = 0; i < InputCount; i++)
                if (_inputs[i] is { } v) inputs.Add(v);
            return inputs;
        }
    }

    /// <summary>What this node computed (for tools that walk a recorded forward pass: pruning's graph, LRP).</summary>
    public abstract TapeOp Op { get; }

    /// <summary>Wraps the forward result in a variable and records this node as its creator when any input needs a gradient.</summary>
    protected Variable Record(Tensor output, Variable a, Variable? b = null, Variable? c = null, Variable? d = null)
    {
        bool needs = Grad.IsEnabled && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false) || (d?.RequiresGrad ?? false));
        var result = new Variable(output, needs);
        if (!needs)
        {
            ReleaseSaved();
            return result;
        }
        _inputs[0] = a; _inputs[1] = b; _inputs[2] = c; _inputs[3] = d;
        InputCount = d != null ? 4 : c != null ? 3 : b != null ? 2 : 1;
        result.Creator = this;
        Output = result;
        return result;
    }

    /// <summary>Whether input i needs a gradient (backward may skip computing the others).</summary>
    protected bool NeedsGrad(int i) => _inputs[i]?.RequiresGrad ?? false;

    /// <summary>Computes input gradients from dOut and passes each to sink.Add(i, tensor) (the sink takes ownership).</summary>
    protected internal abstract void Backward(Tensor dOut, GradSink sink);

    /// <summary>Frees the tensors saved for backward.</summary>
    protected virtual void ReleaseSaved() { }

    /// <summary>Frees the saved tensors (backward does this; a tape walked but never differentiated should too).</summary>
    public void Release()
    {
        if (_released) return;
        _released = true;
        ReleaseSaved();
    }

    internal bool IsReleased => _released;

    public override string ToString() => Op.Name;
}

/// <summary>Receives input gradients from a node's backward.</summary>
public readonly struct GradSink
{
    private readonly Node _node;
    internal GradSink(Node node) => _node = node;

    /// <summary>Adds gradient g (shaped like input i, or broadcastable to it) to input i; takes ownership of g.</summary>
    public void Add(int i, Tensor g) => Engine.Accumulate(_node.Input(i)!, g);
}
