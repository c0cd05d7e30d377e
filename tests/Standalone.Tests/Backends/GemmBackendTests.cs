// MatMul on every backend, and every GEMM path of it (OpenCL: the own tiled kernel, and CLBlast where installed),
// against a float64 CPU reference: odd sizes (edge tiles in both directions, K not a multiple of the kernel's slab
// depth, K = 0), all four transposes, batches that broadcast one operand (batch stride 0), operands whose rows are
// further apart than their length, and alpha/beta — with beta = 0 over a C full of NaN, which must not be read.
using Standalone.Backends;
using Standalone.Tests.Support;

namespace Standalone.Tests.Backends;

[TestFixtureSource(typeof(TestBackends), nameof(TestBackends.All))]
public sealed class GemmBackendTests(string device) : BackendTest(device)
{
    /// <summary>Allowed error relative to Σ|term| (SumAssert): float32 sums over K ≤ 300 stay far below this.</summary>
    private const double Tolerance = 2e-5;

    /// <summary>(M, N, K): single elements, sizes around the 16/32/64 tiles, long and flat shapes, an empty K.</summary>
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (3, 5, 7), (17, 33, 65), (64, 64, 16), (65, 31, 100), (130, 70, 33), (7, 200, 300), (200, 9, 17), (4, 3, 0),
    ];

    private static Tensor Random(Shape shape, int seed) => Tensor.RandomUniform(shape, -1, 1, new Rng((ulong)seed + 1), backend: Cpu);

    [Test]
    public void OddSizesMatchTheReferenceForEveryTranspose([Values] bool transA, [Values] bool transB)
    {
        GemmPaths.ForEach(Backend, path =>
        {
            int seed = 0;
            foreach (var (m, n, k) in Shapes)
            {
                using var a = Random(transA ? new Shape(k, m) : new Shape(m, k), seed++);
                using var b = Random(transB ? new Shape(n, k) : new Shape(k, n), seed++);
                CheckMatMul(a, b, transA, transB, $"{path}, {m}×{n}×{k}, transA={transA}, transB={transB}");
            }
        });
    }

    [Test]
    public void BatchesBroadcastATwoDimensionalOperand([Values] bool transA, [Values] bool transB)
    {
        const int batch = 3, m = 19, n = 23, k = 37;
        using var a3 = Random(transA ? new Shape(batch, k, m) : new Shape(batch, m, k), 1);
        using var b3 = Random(transB ? new Shape(batch, n, k) : new Shape(batch, k, n), 2);
        using var a2 = Random(transA ? new Shape(k, m) : new Shape(m, k), 3);
        using var b2 = Random(transB ? new Shape(n, k) : new Shape(k, n), 4);
        GemmPaths.ForEach(Backend, path =>
        {
            CheckMatMul(a3, b3, transA, transB, $"{path}, batched both");
            CheckMatMul(a3, b2, transA, transB, $"{path}, B broadcast");
            CheckMatMul(a2, b3, transA, transB, $"{path}, A broadcast");
        });
    }

    [Test]
    public void RowsFurtherApartThanTheirLengthAreReadInPlace()
    {
        // Slicing columns keeps a unit last stride, so these views reach the backend uncopied, with row stride 45.
        using var wideA = Random(new Shape(2, 33, 45), 5);
        using var wideB = Random(new Shape(45, 45), 6);
        using var a = wideA.Slice(2, 3, 40);                      // [2, 33, 40]
        using var bRows = wideB.Slice(0, 0, 40);
        using var b = bRows.Slice(1, 1, 29);                      // [40, 29]
        using var bTransposedRows = wideB.Slice(0, 2, 29);
        using var bTransposed = bTransposedRows.Slice(1, 3, 40);  // [29, 40], used as Bᵀ
        GemmPaths.ForEach(Backend, path =>
        {
            CheckMatMul(a, b, transA: false, transB: false, $"{path}, strided A and B");
            CheckMatMul(a, bTransposed, transA: false, transB: true, $"{path}, strided Bᵀ");
        });
    }

    [Test]
    public void AlphaScalesTheProductAndBetaTheOldC([Values(0.0, 1.0, 0.5)] double beta)
    {
        const int batch = 3, m = 37, n = 29, k = 45;
        const double alpha = 1.5;
        using var a = Random(new Shape(1, k, m), 7); // transposed and broadcast over the batch
        using var b = Random(new Shape(batch, k, n), 8);
        using var c = beta == 0 ? Tensor.Full(new Shape(batch, m, n), double.NaN, backend: Cpu) : Random(new Shape(batch, m, n), 9);

        using var a64 = a.To(DType.Float64);
        using var b64 = b.To(DType.Float64);
        using var c64 = c.To(DType.Float64);
        using var expected = Scaled(Tensor.MatMul(a64, b64, transA: true), alpha, beta == 0 ? null : c64, beta);
        using var absC = c64.Apply(UnaryOp.Abs);
        using var magnitude = Scaled(AbsMatMul(a64, b64, transA: true, transB: false), alpha, beta == 0 ? null : absC, beta);

        GemmPaths.ForEach(Backend, path =>
        {
            using var da = OnDevice(a);
            using var aBatch = da.Expand(new Shape(batch, k, m));
            using var db = OnDevice(b);
            using var dc = OnDevice(c);
            Backend.MatMul(aBatch.View, true, db.View, false, dc.View, alpha, beta);
            SumAssert.Within(dc, expected, magnitude, Tolerance, $"{path}, alpha={alpha}, beta={beta}");
        });
    }

    private void CheckMatMul(Tensor a, Tensor b, bool transA, bool transB, string what)
    {
        using var a64 = a.To(Cpu).To(DType.Float64);
        using var b64 = b.To(Cpu).To(DType.Float64);
        using var expected = Tensor.MatMul(a64, b64, transA, transB);
        using var magnitude = AbsMatMul(a64, b64, transA, transB);
        using var da = OnDevice(a);
        using var db = OnDevice(b);
        using var actual = Tensor.MatMul(da, db, transA, transB);
        Assert.That(actual.Device, Is.EqualTo(Backend.Device));
        SumAssert.Within(actual, expected, magnitude, Tolerance, what);
    }

    /// <summary>|A|·|B|: Σk |a·b| per element, the scale of its rounding error.</summary>
    private static Tensor AbsMatMul(Tensor a, Tensor b, bool transA, bool transB)
    {
        using var absA = a.Apply(UnaryOp.Abs);
        using var absB = b.Apply(UnaryOp.Abs);
        return Tensor.MatMul(absA, absB, transA, transB);
    }

    /// <summary>alpha·product + beta·c (c null: alpha·product); disposes product.</summary>
    private static Tensor Scaled(Tensor product, double alpha, Tensor? c, double beta)
    {
        using (product)
        {
            var scaled = product.Apply(UnaryOp.Affine, alpha, 0);
            if (c == null) return scaled;
            using (scaled)
            using (var cScaled = c.Apply(UnaryOp.Affine, beta, 0))
                return scaled.Apply(BinaryOp.Add, cScaled);
        }
    }
}
