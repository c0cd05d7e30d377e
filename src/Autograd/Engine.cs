// Reverse-mode driver: orders the tape topologically from the root, then walks it backwards, handing each node
// the gradient of its output and collecting the gradients of its inputs. Intermediate gradients are freed as
// soon as they are consumed; saved tensors are freed as each node finishes (a graph is differentiated once).
namespace Standalone.Autograd;

internal static class Engine
{
    [ThreadStatic] private static List<Node>? _order;
    [ThreadStatic] private static Stack<(Node, int)>? _stack;
    private static int _stamp;

    public static void Backward(Variable root, Tensor? seed)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException("backward: the variable does not require a gradient (no parameter or input marked requires_grad reaches it, or it was computed under Grad.Disabled())");
        Tensor start;
        if (seed == null)
        {
            if (root.Data.Numel != 1)
                throw new InvalidOperationException($"backward: without a seed gradient the output must hold one element, got {root.Shape}; pass the output gradient explicitly");
            start = Tensor.Full(root.Shape, 1, root.DType, root.Data.Backend);
        }
        else
        {
            if (seed.Shape != root.Shape || seed.DType != root.DType)
                throw new ArgumentException($"backward: seed gradient {seed.Shape} {seed.DType} must match the output {root.Shape} {root.DType}");
            start = seed.Clone();
        }

        if (root.IsLeaf)
        {
            Accumulate(root, start);
            return;
        }
        if (root.Creator!.IsReleased)
            throw new InvalidOperationException("backward: this graph was already differentiated and its saved tensors freed; run the forward pass again");

        var order = TopologicalOrder(root.Creator);
        root.PendingGrad = start;
        using (Grad.Disabled())
        {
            for (int i = order.Count - 1; i >= 0; i--)
            {
                var node = order[i];
                var output = node.Output;
                var dOut = output.PendingGrad;
                output.PendingGrad = null;
                if (dOut != null)
                {
                    output.RunHooks(dOut);
                    if (output.RetainsGrad) AccumulateInto(output, dOut.Clone());
                    node.Backward(dOut, new GradSink(node));
                    dOut.Dispose();
                }
                node.Release();
            }
        }
        order.Clear();
    }

    private static List<Node> TopologicalOrder(Node root)
    {
        var order = _order ??= new List<Node>();
        var stack = _stack ??= new Stack<(Node, int)>();
        int stamp = Interlocked.Increment(ref _stamp);
        order.Clear();
        root.VisitStamp = stamp;
        stack.Push((root, 0));
        while (stack.Count > 0)
        {
            var (node, next) = stack.Pop();
            if (next < node.InputCount)
            {
                stack.Push((node, next + 1));
                var child = node.Input(next)?.Creator;
                if (child != null && child.VisitStamp != stamp && !child.IsReleased)
                {
                    child.VisitStamp = stamp;
                    stack.Push((child, 0));
                }
            }
            else order.Add(node); // post-order: inputs before the nodes that consume them
        }
        return order;
    }

    /// <summary>Routes a gradient to a variable: leaves accumulate into Grad, intermediates into PendingGrad.</summary>
    internal static void Accumulate(Variable target, Tensor g)
    {
        if (!target.RequiresGrad) { g.Dispose(); return; }
        if (g.Shape != target.Shape)
        {
            var reduced = Functions.SumToShape(g, target.Shape);
            g.Dispose();
            g = reduced;
        }
        if (target.IsLeaf)
        {
            target.RunHooks(g);
            AccumulateInto(target, g);
            return;
        }
        if (target.PendingGrad == null) target.PendingGrad = g;
        else
        {
            target.PendingGrad.AddInPlace(g);
            g.Dispose();
        }
    }

    /// <summary>Grad += g. A new Grad tensor is created outside any TensorScope so it outlives the step.</summary>
    private static void AccumulateInto(Variable target, Tensor g)
    {
        if (target.Grad == null || target.Grad.IsDisposed)
        {
            using (TensorScope.Suspend()) target.Grad = g.Clone();
        }
        else target.Grad.AddInPlace(g);
        g.Dispose();
    }
}
