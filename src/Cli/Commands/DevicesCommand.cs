// `standalone devices`: the compute devices found, with what each offers.
using System.CommandLine;
using Spectre.Console;

namespace Standalone.Cli.Commands;

internal static class DevicesCommand
{
    public static Command Create()
    {
        var command = new Command("devices", "List the compute devices this machine offers Standalone.");
        command.SetAction(_ =>
        {
            foreach (var device in Devices.List())
            {
                var table = new Table().Title($"[bold]{device.Device}[/]: {Markup.Escape(device.Name)}").HideHeaders().AddColumn("").AddColumn("");
                foreach (var (label, value) in device.Facts) table.AddRow(Markup.Escape(label), Markup.Escape(value));
                AnsiConsole.Write(table);
            }
            foreach (var (backend, status) in Devices.BackendStatus()) AnsiConsole.MarkupLine($"{backend}: {Markup.Escape(status)}");
            return 0;
        });
        return command;
    }
}
