// Disjoint sets over integers with path halving and union by size: channel slots that must be pruned together.
namespace Standalone.Pruning.Graph;

internal sealed class UnionFind
{
    private readonly List<int> _parent = new();
    private readonly List<int> _size = new();

    public int Count => _parent.Count;

    /// <summary>Adds n new singleton sets and returns the first one's index.</summary>
    public int Add(int n)
    {
        int first = _parent.Count;
        for (int i = 0; i < n; i++)
        {
            _parent.Add(first + i);
            _size.Add(1);
        }
        return first;
    }

    public int Find(int x)
    {
        while (_parent[x] != x)
        {
            _parent[x] = _parent[_parent[x]];
            x = _parent[x];
        }
        return x;
    }

    public void Union(int a, int b)
    {
        a = Find(a);
        b = Find(b);
        if (a == b) return;
        if (_size[a] < _size[b]) (a, b) = (b, a);
        _parent[b] = a;
        _size[a] += _size[b];
    }
}
