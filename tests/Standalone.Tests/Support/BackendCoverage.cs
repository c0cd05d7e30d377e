// After the whole run: how many backend tests ran on each backend (pass or fail: the run's summary counts those), written to backend-coverage.txt next to the test
// assembly and to the console, so CI can show (and check) that the OpenCL tests really ran rather than being skipped.
using Standalone.Tests.Support;

[SetUpFixture]
public sealed class BackendCoverage
{
    public const string FileName = "backend-coverage.txt";

    [OneTimeTearDown]
    public void Report()
    {
        var lines = TestBackends.Coverage.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => $"backend {e.Key}: {e.Value.Ran} tests ran, {e.Value.Missing} found no device")
            .ToList();
        File.WriteAllLines(Path.Combine(TestContext.CurrentContext.WorkDirectory, FileName), lines);
        foreach (var line in lines) TestContext.Progress.WriteLine(line);
    }
}
