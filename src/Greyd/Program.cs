using Greyd.Hosting;
using Greyd.Hosting.Cli.Subcommands;

// One binary: "greyd [options]" is the daemon, "greyd COMMAND ..." talks to a running one.
return GreydSubcommands.IsSubcommand(args)
    ? await GreydSubcommands.RunAsync(args, Console.Out, Console.Error).ConfigureAwait(false)
    : await GreydDaemon.RunAsync(args).ConfigureAwait(false);
