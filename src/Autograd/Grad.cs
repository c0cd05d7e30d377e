// Switches recording of the tape on and off: `using (Grad.Disabled()) { ... }` runs ops without building a graph
// (evaluation, optimizer updates, pruning statistics).
namespace Standalone.Autograd;

public static class Grad
{
    [ThreadStatic] private static int _disabledDepth;

    public static bool IsEnabled => _disabledDepth == 0;

    public static Scope Disabled() => new();

    public readonly struct Scope : IDisposable
    {
        public Scope() => _disabledDepth++;
        public void Dispose() => _disabledDepth--;
    }
}
