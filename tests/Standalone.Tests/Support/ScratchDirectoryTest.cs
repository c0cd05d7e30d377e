// Base of tests that write files: each test gets a fresh directory under the system temp folder, deleted after it.
namespace Standalone.Tests.Support;

public abstract class ScratchDirectoryTest
{
    /// <summary>This test's own empty directory.</summary>
    protected string Scratch { get; private set; } = "";

    [SetUp]
    public void CreateScratch()
    {
        Scratch = Path.Combine(Path.GetTempPath(), $"standalone-{GetType().Name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Scratch);
    }

    [TearDown]
    public void DeleteScratch() => Directory.Delete(Scratch, recursive: true);
}
