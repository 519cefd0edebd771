using Greyd.Hosting;

return await GreydDaemon.RunAsync(args).ConfigureAwait(false);
