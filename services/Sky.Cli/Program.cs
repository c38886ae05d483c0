using System.CommandLine;
using Sky.Cli;
using Sky.Cli.Commands;

var root = new RootCommand("sky: plan, launch, move data and pay across clouds with Sky.Mesh")
{
    CliContext.Endpoint,
    CliContext.Token,
    CliContext.Json,
    HealthCommand.Create(),
    VersionCommand.Create(),
    KeysCommand.Create(),
    NamesCommand.Create(),
    ZonesCommand.Create(),
    DirCommand.Create(),
    CatalogCommand.Create(),
    GridsCommand.Create(),
    GpusCommand.Create(),
    PlanCommand.Create(),
    PeeringCommand.Create(),
    BillCommand.Create(),
    TransferCommand.Create(),
};
foreach (var command in JobsCommand.Create()) root.Add(command);
return await root.Parse(args).InvokeAsync();
