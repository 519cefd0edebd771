using Greyd.FuzzTests;
using SharpFuzz;

// AFL++ harness: greyd-fuzz protocol|whitelist, run under afl-fuzz after `sharpfuzz` has instrumented the greyd
// assemblies (see README.md). Each input is run with a fixed target seed so AFL sees a deterministic program.
// Any exception other than the ones the targets treat as expected is a crash for AFL.
if (args.Length != 1 || args[0] is not ("protocol" or "whitelist"))
{
    Console.Error.WriteLine("usage: Greyd.Fuzz protocol|whitelist   (input on stdin, under afl-fuzz)");
    return 2;
}

if (args[0] == "protocol")
{
    // Instrumented code must not run before Fuzzer.OutOfProcess.Run has mapped AFL's coverage memory.
    ProtocolTarget? target = null;
    Fuzzer.OutOfProcess.Run(stream => (target ??= new ProtocolTarget()).Run(ReadAll(stream), new Random(0)));
}
else
{
    Fuzzer.OutOfProcess.Run(stream => WhitelistTarget.Run(ReadAll(stream), new Random(0)));
}

return 0;

static byte[] ReadAll(Stream stream)
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    return buffer.ToArray();
}
