// A scope that disposes, at its end, every tensor created inside it (the way a training step returns all of its
// activations and gradients to the buffer pool). Tensors that must outlive the scope — parameters, their
// gradients, optimizer state, results — are created outside it (or under Suspend()) or passed to Keep().
namespace Standalone;

public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? _current;
    // Lists are recycled so that a loop of scopes (one per training step) allocates no new arrays once warm.
    [ThreadStatic] private static Stack<List<Tensor>>? _spareLists;
    private readonly List<Tensor> _tensors = (_spareLists is { Count: > 0 } spare) ? spare.Pop() : new List<Tensor>();
    private readonly TensorScope? _outer;
    private bool _disposed;

    private TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>Opens a scope on this thread; dispose it to release every tensor created since.</summary>
    public static TensorScope Begin() => new();

    /// <summary>Runs without any scope: tensors created inside are owned by the caller (used for long-lived state).</summary>
    public static Suspension Suspend() => new();

    internal static void Register(Tensor tensor) => _current?._tensors.Add(tensor);

    /// <summary>
    /// Takes a tensor out of every open scope on this thread: the caller owns it from now on (and disposes it, or
    /// leaves it to the GC). For results and state that must outlive the step that created them.
    /// </summary>
    public static Tensor Keep(Tensor tensor)
    {
        for (var scope = _current; scope != null; scope = scope._outer)
        {
            int i = scope._tensors.LastIndexOf(tensor);
            if (i >= 0)
            {
                scope._tensors.RemoveAt(i);
                break;
            }
        }
        return tensor;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_current != this) throw new InvalidOperationException("tensor scopes must be disposed in the reverse order they were opened");
        _current = _outer;
        foreach (var t in _tensors) t.Dispose();
        _tensors.Clear();
        (_spareLists ??= new()).Push(_tensors);
    }

    public readonly struct Suspension : IDisposable
    {
        private readonly TensorScope? _saved;
        public Suspension() { _saved = _current; _current = null; }
        public void Dispose() => _current = _saved;
    }
}
