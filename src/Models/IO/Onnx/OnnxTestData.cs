// A test case for an exported model in the layout ONNX's model zoo and backend test runners use: a folder holding
// input_0.pb and output_0.pb, each one serialized TensorProto (named "input" and "logits"). The output is what this
// engine computes for the input in evaluation mode, so any ONNX runtime can check that it computes the same
// (data/reference/check_onnx.py does).
using Standalone.Autograd;
using Standalone.Models.Nn;

namespace Standalone.Models.IO.Onnx;

public static class OnnxTestData
{
    /// <summary>Writes <paramref name="input"/> and the model's output for it to directory/input_0.pb and directory/output_0.pb.</summary>
    public static void Write(Module model, Tensor input, string directory)
    {
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using (Grad.Disabled())
            {
                var output = model.Forward(Variable.Constant(input));
                using var logits = output.Data;
                AtomicFile.Write(Path.Combine(directory, "input_0.pb"), OnnxProto.FloatTensor(OnnxExporter.InputName, input).WriteTo);
                AtomicFile.Write(Path.Combine(directory, "output_0.pb"), OnnxProto.FloatTensor(OnnxExporter.OutputName, logits).WriteTo);
            }
        }
        finally
        {
            model.Train(wasTraining);
        }
    }
}
