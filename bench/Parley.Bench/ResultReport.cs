using System.Globalization;
using System.Text;

namespace Parley.Bench;

/// <summary>
/// What a run prints: a readable table of figures, then one machine-readable line
/// <c>RESULT scenario=NAME key=value ...</c> (fields that do not apply are left out).
/// </summary>
internal sealed class ResultReport(string scenario)
{
    private readonly List<(string Name, string Value)> _rows = [];
    private readonly List<(string Key, string Value)> _fields = [];

    /// <summary>A row of the table.</summary>
    public void Row(string name, string value) => _rows.Add((name, value));

    /// <summary>A row of the table, formatted with invariant culture.</summary>
    public void Row(string name, double value, string format, string unit = "") =>
        _rows.Add((name, value.ToString(format, CultureInfo.InvariantCulture) + (unit.Length > 0 ? " " + unit : "")));

    /// <summary>A field of the RESULT line.</summary>
    public void Field(string key, double value, string format) =>
        _fields.Add((key, value.ToString(format, CultureInfo.InvariantCulture)));

    public void Print(TextWriter output)
    {
        int width = _rows.Count == 0 ? 0 : _rows.Max(r => r.Name.Length);
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"── {scenario} ──");
        foreach (var (name, value) in _rows)
        {
            text.Append("  ").Append(name.PadRight(width)).Append("  ").AppendLine(value);
        }
        text.Append("RESULT scenario=").Append(scenario);
        foreach (var (key, value) in _fields)
        {
            text.Append(' ').Append(key).Append('=').Append(value);
        }
        output.WriteLine(text.ToString());
    }
}
