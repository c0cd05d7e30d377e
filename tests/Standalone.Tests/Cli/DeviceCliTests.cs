// --device on the command line: `devices` lists what this machine has, bad selectors are one sentence, and the main
// jobs — train, eval, prune with SInGE — run end to end on every backend present (on the simulator everywhere).
using System.Text.Json;
using Standalone.Backends.Gpu;
using Standalone.Cli;
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[TestFixture]
[NonParallelizable] // redirects Console
public sealed class DeviceCliTests : CliTest
{
    [Test]
    public void DevicesListsTheCpuTheSimulatorAndEveryGpuDevice()
    {
        Assert.That(Program.Main(["devices"]), Is.EqualTo(0), Error.ToString());
        string text = Out.ToString();
        Assert.That(text, Does.Contain("cpu").And.Contain("sim").And.Contain("ILGPU CPU accelerator"));
        foreach (var device in GpuRuntime.Devices)
        {
            Assert.That(text, Does.Contain(device.Device.ToString()).And.Contain(device.Name));
            // The table wraps long cells: the reason's first words are on the "usable" row.
            if (device.Unusable != null) Assert.That(text, Does.Contain("no: " + device.Unusable[..Math.Min(24, device.Unusable.Length)]), "an unusable OpenCL device says why");
        }
        if (GpuRuntime.CudaUnavailable != null) Assert.That(text, Does.Contain("cuda: no device ("));
        if (GpuRuntime.OpenClUnavailable != null) Assert.That(text, Does.Contain("opencl: no usable device ("));
    }

    [TestCase("eval --device tpu", "unknown device 'tpu' (expected cpu, cuda[:N], opencl[:N] or sim)")]
    [TestCase("eval --device opencl:x", "unknown device 'opencl:x'")]
    public void BadDeviceIsOneSentence(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected);

    [Test]
    public void MissingCudaDeviceNamesWhatExists()
    {
        AssertOneSentenceError(["eval", "--device", "cuda:7"], GpuRuntime.Devices.All(d => d.Device.Kind != DeviceKind.Cuda) ? "CUDA: no device available" : "there is no device cuda:7");
    }

    [Test]
    public void MissingOpenClDeviceNamesWhatExists()
    {
        AssertOneSentenceError(["eval", "--device", "opencl:99"], GpuRuntime.Devices.All(d => d.Device.Kind != DeviceKind.OpenCl) ? "OpenCL: no device available" : "there is no device opencl:99");
    }

    [Test]
    public void TrainEvalAndPruneRunOnTheDevice([ValueSource(typeof(TestBackends), nameof(TestBackends.All))] string device)
    {
        TestBackends.Require(device);
        string run = Path.Combine(Scratch, "run"), pruned = Path.Combine(Scratch, "pruned"), json = Path.Combine(Scratch, "eval.json");
        // The simulator runs the same commands on a folder of 12 tiny images (it takes seconds a step); elsewhere one
        // epoch of the synthetic set must also learn something.
        bool simulator = Device.Parse(device).Kind == DeviceKind.Simulator;
        string[] data = simulator ? ["--dataset", "folder", "--data", TinyFolder()] : ["--dataset", "synthetic"];
        Assert.That(Program.Main(["train", "--device", device, .. data, "--epochs", "1", "--batch-size", simulator ? "4" : "64", "--out", run]),
            Is.EqualTo(0), Error.ToString());
        string model = Path.Combine(run, "model.safetensors");
        Assert.That(Program.Main(["eval", "--device", device, "--model", model, .. data, "--json", json]), Is.EqualTo(0), Error.ToString());
        using (var doc = JsonDocument.Parse(File.ReadAllText(json)))
        {
            double accuracy = doc.RootElement.GetProperty("accuracy").GetDouble();
            if (simulator) Assert.That(accuracy, Is.InRange(0.0, 1.0));
            else Assert.That(accuracy, Is.GreaterThan(0.2), "one epoch on the synthetic set learns something");
        }
        string[] sizes = simulator ? ["--data", data[^1], "--test-images", "4", "--curve-images", "4"] : ["--test-images", "128", "--curve-images", "64"];
        Assert.That(Program.Main(["prune", "--device", device, "--model", model, "--criterion", "singe", "--schedule", "one-shot", "--ig-steps", "2",
            "--target-macs", "0.2", "--score-batches", "1", "--finetune-epochs", "0", .. sizes, "--no-throughput", "--out", pruned]),
            Is.EqualTo(0), Error.ToString());
        Assert.That(File.Exists(Path.Combine(pruned, "model.safetensors")));
        Assert.That(Tensor.DefaultBackend.Device, Is.EqualTo(Devices.Open(device).Device), "the commands ran on the chosen device");
    }

    /// <summary>A folder data set of 8×8 grey images, two classes: 4 training and 2 test images each.</summary>
    private string TinyFolder()
    {
        string root = Path.Combine(Scratch, "tiny");
        var random = new Random(3);
        foreach (var (split, count) in new[] { ("train", 4), ("test", 2) })
            foreach (string label in new[] { "a", "b" })
            {
                string folder = Path.Combine(root, split, label);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < count; i++)
                {
                    var pixels = new byte[8 * 8];
                    random.NextBytes(pixels);
                    Png.Write(Path.Combine(folder, $"{i}.png"), new PngImage(8, 8, 1, pixels));
                }
            }
        return root;
    }
}
