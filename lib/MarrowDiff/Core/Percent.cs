using System.Globalization;

namespace MarrowDiff.Core;

/// <summary>The one way a share is written as a percentage in tables, notes and figures: invariant culture, so a table
/// reads the same on every machine, and a fixed count of decimals, so columns line up.</summary>
public static class Percent
{
    /// <summary>0.9568 → "95.7" (or "95.68" with <paramref name="decimals"/> 2).</summary>
    public static string Of(double share, int decimals = 1) => (100 * share).ToString(Format(decimals), CultureInfo.InvariantCulture);

    /// <summary>A softmax output (single precision), scaled and rounded in single precision as it always was, so a
    /// figure's label does not move by a rounding step.</summary>
    public static string Of(float share, int decimals = 1) => (100 * share).ToString(Format(decimals), CultureInfo.InvariantCulture);

    /// <summary>A difference of two shares in percentage points, always signed: 0.069 → "+6.9", −0.101 → "-10.1".</summary>
    public static string Points(double difference) => (100 * difference).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture);

    /// <summary>A p-value as tables show it: three decimals, "&lt;0.001" below that.</summary>
    public static string PValue(double p) => p < 0.001 ? "<0.001" : p.ToString("0.000", CultureInfo.InvariantCulture);

    private static string Format(int decimals) => decimals switch { 0 => "0", 1 => "0.0", 2 => "0.00", _ => "0." + new string('0', decimals) };
}
