// `standalone train`: trains a zoo model on a data set, with a checkpoint every epoch and --resume after an
// interruption (Ctrl+C saves one and exits). Everything here is parsing and rendering; the loop is Models.Training.Trainer.
using System.CommandLine;
using Standalone.Cli.Rendering;
using Standalone.Models.Data;
using Standalone.Models.Training;
using Standalone.Models.Zoo;

namespace Standalone.Cli.Commands;

internal static class TrainCommand
{
    public static Command Create()
    {
        var d = new TrainOptions();
        var model = new Option<string>("--arch") { HelpName = "NAME", Description = $"Architecture: {string.Join(", ", ModelZoo.Names)}.", DefaultValueFactory = _ => "resnet20" };
        var shortcut = new Option<string>("--shortcut") { HelpName = "A|B", Description = "CIFAR ResNet shortcut: A (zero-padded identity) or B (1×1 conv + BN).", DefaultValueFactory = _ => "B" };
        var head = new Option<string>("--head") { HelpName = "cifar|imagenet", Description = "VGG classifier head.", DefaultValueFactory = _ => "cifar" };
        var width = new Option<double>("--width") { HelpName = "M", Description = "VGG width multiplier.", DefaultValueFactory = _ => 1.0 };
        var dataset = CommonOptions.Dataset();
        var data = CommonOptions.DataDirectory();
        var epochs = new Option<int>("--epochs") { HelpName = "N", Description = "Training epochs.", DefaultValueFactory = _ => d.Epochs };
        var batch = new Option<int>("--batch-size") { HelpName = "B", Description = "Images per step.", DefaultValueFactory = _ => d.BatchSize };
        var lr = new Option<double>("--lr") { HelpName = "RATE", Description = "Peak learning rate.", DefaultValueFactory = _ => d.LearningRate };
        var optimizer = new Option<string>("--optimizer") { HelpName = "NAME", Description = "sgd (momentum), nesterov or adamw.", DefaultValueFactory = _ => d.Optimizer };
        var momentum = new Option<double>("--momentum") { HelpName = "M", Description = "SGD momentum.", DefaultValueFactory = _ => d.Momentum };
        var decay = new Option<double>("--weight-decay") { HelpName = "WD", Description = "Weight decay (decoupled for adamw).", DefaultValueFactory = _ => d.WeightDecay };
        var smoothing = new Option<double>("--label-smoothing") { HelpName = "EPS", Description = "Label smoothing of the cross-entropy.", DefaultValueFactory = _ => d.LabelSmoothing };
        var schedule = new Option<string>("--schedule") { HelpName = "NAME", Description = "Learning-rate schedule: cosine, step, multistep or constant.", DefaultValueFactory = _ => d.Schedule };
        var warmup = new Option<double>("--warmup-epochs") { HelpName = "E", Description = "Linear warm-up length in epochs.", DefaultValueFactory = _ => d.WarmupEpochs };
        var stepSize = new Option<int>("--step-size") { HelpName = "E", Description = "step schedule: epochs between decays.", DefaultValueFactory = _ => d.StepSize };
        var milestones = new Option<int[]>("--milestones") { HelpName = "E,E,...", Description = "multistep schedule: epochs at which the rate decays.", AllowMultipleArgumentsPerToken = true, CustomParser = CommonOptions.ParseIntList };
        var gamma = new Option<double>("--gamma") { HelpName = "G", Description = "step/multistep decay factor.", DefaultValueFactory = _ => d.Gamma };
        var seed = new Option<ulong>("--seed") { HelpName = "N", Description = "Seed of initialisation, shuffling and augmentation.", DefaultValueFactory = _ => d.Seed };
        var crop = new Option<int>("--crop-padding") { HelpName = "P", Description = "Random crop after zero-padding P pixels (0: off).", DefaultValueFactory = _ => d.CropPadding };
        var noFlip = new Option<bool>("--no-flip") { Description = "Turn off random horizontal flips." };
        var padTo = new Option<int?>("--pad-to") { HelpName = "S", Description = "Centre smaller images on an S×S canvas (default: 32 for a VGG with the CIFAR head, else none)." };
        var output = new Option<string?>("--out") { HelpName = "DIR", Description = "Output directory (default runs/<timestamp>/): checkpoint.safetensors, model.safetensors, metrics.jsonl." };
        var init = new Option<string?>("--init") { HelpName = "FILE", Description = "Start from pretrained weights (.safetensors, or a PyTorch .pth/.pt state dict) of the same --arch; a classifier sized for other classes starts fresh." };
        var normalize = new Option<string>("--normalize") { HelpName = "data|imagenet", Description = "Input normalisation: the training split's own statistics, or ImageNet's (what pretrained torchvision weights expect).", DefaultValueFactory = _ => "data" };
        var freeze = new Option<int>("--freeze-epochs") { HelpName = "N", Description = "With --init: train only the classifier for the first N epochs (the rest of the network frozen).", DefaultValueFactory = _ => d.FreezeEpochs };
        var resume = new Option<string?>("--resume") { HelpName = "DIR|FILE", Description = "Continue an interrupted run from its directory or checkpoint (its own options are used)." };

        var command = new Command("train", "Train a network on a data set, evaluating and checkpointing every epoch.")
        {
            model, shortcut, head, width, dataset, data, epochs, batch, lr, optimizer, momentum, decay, smoothing, schedule, warmup,
            stepSize, milestones, gamma, seed, crop, noFlip, padTo, init, freeze, normalize, output, resume,
        };
        command.SetAction(parse =>
        {
            Trainer trainer;
            if (parse.GetValue(resume) is { } from)
            {
                string checkpoint = Directory.Exists(from) ? Path.Combine(from, Trainer.CheckpointFile) : from;
                var (spec, info, state) = Trainer.Inspect(checkpoint);
                CommonOptions.WarnIgnoredWithResume(parse, command, resume, data, output);
                // The run's own data directory, unless --data points elsewhere (the same data set, moved).
                string? dataDirectory = parse.GetValue(data) ?? state.DataDirectory;
                var (train, test) = LoadSplits(info.Dataset, dataDirectory);
                info.RequireFits(train, checkpoint);
                string dir = parse.GetValue(output) ?? Path.GetDirectoryName(Path.GetFullPath(checkpoint))!;
                trainer = new Trainer(spec, info, train, test, state.Options, dir, dataDirectory);
                trainer.Restore(checkpoint);
                Console.WriteLine($"resuming {spec} from {checkpoint}: {state.Epoch} of {state.Options.Epochs} epochs done" +
                    (state.Batch > 0 ? $", batch {state.Batch} of epoch {state.Epoch + 1}" : "") + " (the run's own options apply)");
            }
            else
            {
                string name = parse.GetValue(dataset)!;
                var (train, test) = LoadSplits(name, parse.GetValue(data));
                string arch = parse.GetValue(model)!;
                var spec = new ModelSpec
                {
                    Architecture = arch,
                    InChannels = train.Channels,
                    NumClasses = train.Classes.Count,
                    Shortcut = parse.GetValue(shortcut)!,
                    Head = parse.GetValue(head)!,
                    WidthMultiplier = parse.GetValue(width),
                };
                int pad = parse.GetValue(padTo) ?? (ModelZoo.IsVgg(arch) && spec.Head == "cifar" ? 32 : 0);
                var options = new TrainOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    Optimizer = parse.GetValue(optimizer)!,
                    Momentum = parse.GetValue(momentum),
                    WeightDecay = parse.GetValue(decay),
                    LabelSmoothing = parse.GetValue(smoothing),
                    Schedule = parse.GetValue(schedule)!,
                    WarmupEpochs = parse.GetValue(warmup),
                    StepSize = parse.GetValue(stepSize),
                    Milestones = parse.GetValue(milestones) ?? [],
                    Gamma = parse.GetValue(gamma),
                    Seed = parse.GetValue(seed),
                    CropPadding = parse.GetValue(crop),
                    HorizontalFlip = !parse.GetValue(noFlip),
                    PadTo = pad,
                    FreezeEpochs = parse.GetValue(freeze),
                };
                if (options.FreezeEpochs > 0 && parse.GetValue(init) == null)
                    throw new ArgumentException("--freeze-epochs freezes pretrained weights: give them with --init FILE");
                var (mean, std) = DataInfo.Normalization(parse.GetValue(normalize)!, train);
                var info = new DataInfo
                {
                    Dataset = name,
                    Mean = mean,
                    Std = std,
                    PadTo = pad,
                    Input = [train.Channels, Math.Max(train.Height, pad), Math.Max(train.Width, pad)],
                    Classes = train.Classes.ToArray(),
                };
                string dir = parse.GetValue(output) ?? Path.Combine("runs", DateTime.Now.ToString("yyyyMMdd-HHmmss"));
                if (File.Exists(Path.Combine(dir, Trainer.CheckpointFile)))
                    throw new ArgumentException($"{dir} already holds a training checkpoint: continue it with --resume {dir}, or choose another --out");
                trainer = new Trainer(spec, info, train, test, options, dir, parse.GetValue(data));
                if (parse.GetValue(init) is { } weights) Console.WriteLine(trainer.InitializeFrom(CommonOptions.ResolveModelPath(weights)));
                Console.WriteLine($"training {spec} on {name} ({train.Count} images, {test.Count} test), " +
                    $"{trainer.Model.ParameterCount():N0} parameters, {options.Epochs} epochs of {options.BatchSize} → {dir}");
            }

            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                if (cancel.IsCancellationRequested) return; // a second Ctrl+C ends the process at once
                e.Cancel = true;
                cancel.Cancel();
                Console.Error.WriteLine("interrupted: saving a checkpoint at the current batch ...");
            };
            Console.CancelKeyPress += onCancel;
            try
            {
                var summary = TrainingProgress.Run(observer => trainer.Run(observer, cancel.Token));
                if (!summary.Completed)
                {
                    Console.WriteLine($"stopped after {summary.Epochs} complete epochs; checkpoint {summary.CheckpointPath}");
                    Console.WriteLine($"continue with: standalone train --resume {trainer.OutputDirectory}");
                    return 130;
                }
                if (summary.Last is { } last) Console.WriteLine("final " + TrainingProgress.Describe(last));
                Console.WriteLine($"model: {summary.ModelPath}; metrics: {trainer.MetricsPath}");
                return 0;
            }
            finally { Console.CancelKeyPress -= onCancel; }
        });
        return command;
    }

    private static (ImageDataset Train, ImageDataset Test) LoadSplits(string dataset, string? directory) =>
        (DataCatalog.Load(dataset, directory, train: true), DataCatalog.Load(dataset, directory, train: false));
}
