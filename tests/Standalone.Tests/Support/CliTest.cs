// Base of tests that run the `standalone` command in-process: each test gets a scratch directory and its own
// captured Console.Out and Console.Error (fixtures deriving from this must be [NonParallelizable]: the console is global).
using Standalone.Cli;

namespace Standalone.Tests.Support;

public abstract class CliTest : ScratchDirectoryTest
{
    private TextWriter _out = null!, _err = null!;

    /// <summary>What the command printed to standard output during this test.</summary>
    protected StringWriter Out { get; private set; } = null!;
    /// <summary>What the command printed to standard error during this test.</summary>
    protected StringWriter Error { get; private set; } = null!;

    [SetUp]
    public void Capture()
    {
        (_out, _err) = (Console.Out, Console.Error);
        Console.SetOut(Out = new StringWriter());
        Console.SetError(Error = new StringWriter());
    }

    [TearDown]
    public void Restore()
    {
        Console.SetOut(_out);
        Console.SetError(_err);
        Tensor.DefaultBackend = Standalone.Backends.Cpu.CpuBackend.Instance; // --device changes it for the process
    }

    /// <summary>Runs the command and asserts that it fails with the exit code (1 unless given) and one "error:" line containing expected.</summary>
    protected void AssertOneSentenceError(string[] args, string expected, int exitCode = ExitCodes.Failure)
    {
        Assert.That(Program.Main(args), Is.EqualTo(exitCode), Out.ToString() + Error);
        var lines = Error.ToString().Trim().Split('\n');
        Assert.That(lines, Has.Length.EqualTo(1), Error.ToString());
        Assert.That(lines[0], Does.StartWith("error: ").And.Contain(expected));
    }
}
