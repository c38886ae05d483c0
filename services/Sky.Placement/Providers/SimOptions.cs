namespace Sky.Placement.Providers;

/// <summary>How <see cref="SimProvider"/> runs a task once its nodes are up.</summary>
public enum SimRunMode
{
    /// <summary>Run the task's commands as processes here (<see cref="LocalRunner"/>): demos print real output.</summary>
    Execute,
    /// <summary>Start no process: the run lasts <see cref="SimOptions.SimulatedRunDuration"/> of simulated time and exits with <see cref="SimOptions.SimulatedExitCode"/>.</summary>
    Simulate,
}

/// <summary>Configuration of the simulated clouds. Same options, same seed, same calls: same outcomes.</summary>
public sealed record SimOptions
{
    /// <summary>Seed of the random numbers behind probabilistic preemptions.</summary>
    public int Seed { get; init; }
    /// <summary>Simulated time every provisioning takes (successful or not).</summary>
    public TimeSpan ProvisionDelay { get; init; } = TimeSpan.Zero;
    /// <summary>Failures, preemptions, capacity and quota limits; default: none (unlimited capacity and quota).</summary>
    public SimFaults Faults { get; init; } = SimFaults.None;
    public SimRunMode RunMode { get; init; } = SimRunMode.Execute;
    /// <summary>Length of a run in <see cref="SimRunMode.Simulate"/>.</summary>
    public TimeSpan SimulatedRunDuration { get; init; } = TimeSpan.Zero;
    /// <summary>Exit code of a run in <see cref="SimRunMode.Simulate"/>.</summary>
    public int SimulatedExitCode { get; init; }
    /// <summary>Parent of node directories in <see cref="SimRunMode.Execute"/>; default: sky-sim in the temp folder.</summary>
    public string WorkRoot { get; init; } = Path.Combine(Path.GetTempPath(), "sky-sim");
    public LocalRunnerOptions Runner { get; init; } = new();
}
