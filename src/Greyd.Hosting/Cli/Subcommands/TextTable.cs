using System.Text;
using Greyd.Hosting.Admin;

namespace Greyd.Hosting.Cli.Subcommands;

/// <summary>Rows in aligned columns, the first row being the heading; control characters never reach the terminal.</summary>
public static class TextTable
{
    public static void Write(IReadOnlyList<string[]> rows, TextWriter output)
    {
        int columns = rows[0].Length;
        var widths = new int[columns];
        foreach (var row in rows)
        {
            for (int i = 0; i < columns; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        foreach (var row in rows)
        {
            var line = new StringBuilder();
            for (int i = 0; i < columns; i++)
            {
                line.Append(i == columns - 1 ? row[i] : row[i].PadRight(widths[i] + 2));
            }

            output.WriteLine(AdminLog.Clean(line.ToString().TrimEnd()));
        }
    }
}
