namespace Greyd.Hosting.Admin;

/// <summary>Text from an admin request on its way into the log: control characters become '?', so no entry can forge a line.</summary>
public static class AdminLog
{
    public static string Clean(string text) =>
        string.Create(text.Length, text, static (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
}
