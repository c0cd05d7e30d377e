// `standalone explain` in-process on the shipped ResNet-20: the default run (test image 0, default output name in
// the working directory) prints the prediction, target and completeness and writes a 224×224 PNG; a PNG input with
// --side-by-side and a target by name; and one-sentence errors for a wrong-size PNG, an unknown class, an index
// past the test split and conflicting inputs.
using Standalone.Cli;
using Standalone.Models.Data;
using Standalone.Tests.Support;

namespace Standalone.Tests.Cli;

[TestFixture]
[NonParallelizable] // redirects Console and changes the working directory
public sealed class ExplainCliTests : CliTest
{
    [Test]
    public void ExplainsTestImageZeroIntoTheWorkingDirectory()
    {
        string saved = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(Scratch);
        try
        {
            // The default model is found above the test program's directory (the repository's data/models/).
            Assert.That(Program.Main(["explain", "--steps", "8"]), Is.EqualTo(0), Error.ToString());
        }
        finally { Directory.SetCurrentDirectory(saved); }

        string file = Path.Combine(Scratch, "explain-0.png");
        var image = Png.Decode(File.ReadAllBytes(file), file);
        Assert.That((image.Width, image.Height, image.Channels), Is.EqualTo((224, 224, 3)), "28×28 upscaled 8×, RGB");
        string output = Out.ToString();
        Assert.That(output, Does.Contain("#0 (label Ankle boot)"));
        Assert.That(output, Does.Contain("predicted     Ankle boot (class 9), probability"));
        Assert.That(output, Does.Contain("target        Ankle boot (class 9)"));
        Assert.That(output, Does.Contain("completeness  Σ attributions").And.Contain("(8 steps)"));
        Assert.That(output, Does.Contain("wrote         explain-0.png (224×224)"));
    }

    [Test]
    public void ExplainsAPngSideBySideForANamedTarget()
    {
        // Test image 0 of Fashion-MNIST saved as a gray PNG.
        var test = DataCatalog.Load("fashion-mnist", null, train: false);
        string input = Path.Combine(Scratch, "boot.png"), output = Path.Combine(Scratch, "boot-heat.png");
        Png.Write(input, new PngImage(test.Width, test.Height, 1, test.Image(0).ToArray()));

        Assert.That(Program.Main(["explain", "--image", input, "--target", "sneaker", "--steps", "4", "--side-by-side", "--out", output]),
            Is.EqualTo(0), Error.ToString());

        var image = Png.Decode(File.ReadAllBytes(output), output);
        Assert.That((image.Width, image.Height), Is.EqualTo((224 + 4 + 224, 224)), "image | 4-pixel gap | overlay");
        Assert.That(Out.ToString(), Does.Contain("predicted     Ankle boot (class 9)").And.Contain("target        Sneaker (class 7)"));
    }

    [Test]
    public void AWrongSizePngIsOneSentence()
    {
        string input = Path.Combine(Scratch, "small.png");
        Png.Write(input, new PngImage(20, 30, 3, new byte[20 * 30 * 3]));
        AssertOneSentenceError(["explain", "--image", input], "is 20×30 pixels but the model takes 28×28 images (width×height)");
    }

    [TestCase("explain --target Cat", "--target must be a class index or one of the class names (T-shirt/top,")]
    [TestCase("explain --target 10", "--target 10 is outside the model's 10 classes (0–9)")]
    [TestCase("explain --index 10000", "--index 10000 is outside the 10000 images of fashion-mnist's test split")]
    [TestCase("explain --image x.png --index 3", "give either --image or --index, not both")]
    [TestCase("explain --image /nowhere.png", "image file /nowhere.png does not exist")]
    [TestCase("explain --steps 0", "--steps must be at least 1, got 0")]
    public void BadInputIsOneSentence(string args, string expected) => AssertOneSentenceError(args.Split(' '), expected);
}
