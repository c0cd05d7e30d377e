// Knowledge distillation's soft-target term (Hinton et al.): the Kullback–Leibler divergence of the student's
// tempered distribution from the teacher's, KL(p_t ‖ p_s) with p_t = softmax(z_t / T), p_s = softmax(z_s / T):
// loss_n = Σ_c p_t,c · (log p_t,c − log p_s,c), reduced by mean (over N) or sum. The teacher's logits are a constant.
// dz_s,n = (p_s,n − p_t,n) / T · dL/dloss_n  (÷ N for the mean).
namespace Standalone.Autograd;

public static partial class F
{
    /// <summary>KL(softmax(teacher / T) ‖ softmax(student / T)) per row of [N, C] logits, reduced over the rows.</summary>
    public static Variable KlDivergence(Variable studentLogits, Tensor teacherLogits, double temperature = 1, Reduction reduction = Reduction.Mean) =>
        new KlDivergenceNode(temperature, reduction).Run(studentLogits, teacherLogits);

    private sealed class KlDivergenceNode(double temperature, Reduction reduction) : Node
    {
        public override TapeOp Op => new OtherOp("kl_divergence");

        private Tensor? _logq, _p;

        public Variable Run(Variable student, Tensor teacher)
        {
            if (student.Shape.Rank != 2) throw new ArgumentException($"kl_divergence: student logits must be [N, classes], got {student.Shape}");
            if (teacher.Shape != student.Shape) throw new ArgumentException($"kl_divergence: teacher logits {teacher.Shape} must match the student's {student.Shape}");
            if (!(temperature > 0) || double.IsInfinity(temperature)) throw new ArgumentOutOfRangeException(nameof(temperature), $"kl_divergence: temperature {temperature} must be positive and finite");
            double inverse = 1 / temperature;
            using (var scaled = student.Data.Affine(inverse, 0)) _logq = LogSoftmaxRows(scaled);
            using var teacherScaled = teacher.Affine(inverse, 0);
            var logp = LogSoftmaxRows(teacherScaled);
            _p = logp.Exp();
            logp.ApplyInPlace(Standalone.Backends.BinaryOp.Sub, _logq).MulInPlace(_p);
            using (logp)
            {
                using var total = logp.Sum();
                var loss = total.Affine(reduction == Reduction.Mean ? 1.0 / student.Shape[0] : 1.0, 0);
                return Record(loss, student);
            }
        }

        protected internal override void Backward(Tensor dOut, GradSink sink)
        {
            int n = _logq!.Shape[0];
            var grad = _logq.Exp();
            grad.ApplyInPlace(Standalone.Backends.BinaryOp.Sub, _p!);
            using (var d = dOut.Reshape(1, 1)) grad.ApplyInPlace(Standalone.Backends.BinaryOp.Mul, d);
            grad.MulInPlace((reduction == Reduction.Mean ? 1.0 / n : 1.0) / temperature);
            sink.Add(0, grad);
        }

        protected override void ReleaseSaved() { _logq?.Dispose(); _p?.Dispose(); }
    }
}

public static partial class F
{
    /// <summary>
    /// Knowledge-distillation loss: (1 − α)·CE(labels, student) + α·T²·KL(softmax(teacher / T) ‖ softmax(student / T)),
    /// both terms averaged over the batch. The T² keeps the soft term's gradient on the scale of the hard one's
    /// (Hinton et al., 2015). α = 0 is plain cross-entropy; α = 1 ignores the labels.
    /// </summary>
    public static Variable DistillationLoss(Variable studentLogits, Tensor teacherLogits, Tensor labels, double alpha, double temperature)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), $"distillation: α {alpha} must be in [0, 1]");
        if (alpha == 0) return CrossEntropy(studentLogits, labels);
        var soft = Scale(KlDivergence(studentLogits, teacherLogits, temperature), alpha * temperature * temperature);
        return alpha == 1 ? soft : Add(Scale(CrossEntropy(studentLogits, labels), 1 - alpha), soft);
    }
}
