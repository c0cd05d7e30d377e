// `standalone sweep`: one-shot masking curves without fine-tuning for several criteria (the scarce-data and
// random-gradient protocols): score once per criterion, mask 10 %, 20 %, ... of the channels by one global ranking,
// evaluate each. Writes sweep.json, sweep.md and sweep.svg.
using System.CommandLine;
using System.Globalization;
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Pruning.Experiments;
using Standalone.Pruning.Schedules;

namespace Standalone.Cli.Commands;

internal static class SweepCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { HelpName = "FILE", Description = "Trained model file written by Standalone.", DefaultValueFactory = _ => EvalCommand.DefaultModel };
        var data = CommonOptions.DataDirectory();
        var criteria = new Option<string>("--criteria") { HelpName = "LIST", Description = "Comma-separated criteria; ':random' uses random output gradients (e.g. taylor-sq:random).", DefaultValueFactory = _ => "l1,taylor,gradient,lrp,singe,random" };
        var fractions = new Option<string>("--fractions") { HelpName = "LIST", Description = "Fractions of the channels to mask.", DefaultValueFactory = _ => "0.1,0.2,0.3,0.4,0.5" };
        var perClass = new Option<int>("--score-per-class") { HelpName = "K", Description = "Score on K training images per class (0: --score-batches fresh batches).", DefaultValueFactory = _ => 10 };
        var scoreBatches = new Option<int>("--score-batches") { HelpName = "N", Description = "Batches of training images to score on when --score-per-class is 0.", DefaultValueFactory = _ => 4 };
        var seed = new Option<ulong>("--seed") { HelpName = "N", Description = "Seed of the scoring images and random gradients.", DefaultValueFactory = _ => 0 };
        var igSteps = new Option<int>("--ig-steps") { HelpName = "S", Description = "singe: integration steps.", DefaultValueFactory = _ => 8 };
        var testImages = new Option<int>("--test-images") { HelpName = "N", Description = "Evaluate on the first N test images (0: all).", DefaultValueFactory = _ => 0 };
        var title = new Option<string>("--title") { HelpName = "TEXT", Description = "Title of the report and chart.", DefaultValueFactory = _ => "One-shot masking without fine-tuning" };
        var output = new Option<string>("--out") { HelpName = "DIR", Description = "Output directory.", DefaultValueFactory = _ => Path.Combine("runs", "sweep-" + DateTime.Now.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)) };
        var command = new Command("sweep", "Masking curves without fine-tuning: accuracy after masking a growing share of channels, per criterion.")
        {
            model, data, criteria, fractions, perClass, scoreBatches, seed, igSteps, testImages, title, output,
        };
        command.SetAction(parse =>
        {
            var list = parse.GetValue(fractions)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(f => double.TryParse(f, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && v < 1 ? v
                    : throw new ArgumentException($"--fractions: '{f}' is not a fraction in (0, 1)")).ToList();
            var names = parse.GetValue(criteria)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
            var options = new PruneOptions
            {
                ScorePerClass = parse.GetValue(perClass),
                ScoreBatches = parse.GetValue(scoreBatches),
                Seed = parse.GetValue(seed),
                Singe = new() { Steps = parse.GetValue(igSteps) },
                Selection = new SelectionOptions(), // the papers' protocols rank single channels: no rounding of widths
            };
            foreach (string name in names) MaskingSweep.Parse(name, options); // fail on a bad name before any work
            var loaded = Checkpoint.LoadModel(CommonOptions.ResolveModelPath(parse.GetValue(model)!));
            string dataset = loaded.Data?.Dataset ?? throw new ArgumentException($"{loaded.Path} records no data set");
            var train = DataCatalog.Load(dataset, parse.GetValue(data), train: true);
            var test = DataCatalog.Load(dataset, parse.GetValue(data), train: false);
            loaded.Data.RequireFits(train, loaded.Path);
            loaded.Data.RequireFits(test, loaded.Path);
            int n = parse.GetValue(testImages);
            bool subset = n > 0 && n < test.Count;
            if (subset) test = test.Subset(Enumerable.Range(0, n).ToArray(), $"{test.Name} (first {n})");
            var result = MaskingSweep.Run(loaded, train, test, names, list, options, line => Console.WriteLine(line));
            var files = SweepReport.Write(result, parse.GetValue(output)!, parse.GetValue(title)!);
            Console.WriteLine($"baseline {result.BaselineAccuracy:P2}" + (subset ? $" (accuracies on the first {n:N0} test images)" : ""));
            foreach (var curve in result.Curves)
                Console.WriteLine($"{curve.Criterion,-20} " + string.Join("  ", curve.Points.Select(p => $"{p.Fraction:P0}: {p.Accuracy:P1}")));
            Console.WriteLine($"wrote {string.Join(", ", files)}");
            return 0;
        });
        return command;
    }
}
