using MathNet.Numerics;

namespace MarrowDiff.Evaluation;

/// <summary>
/// McNemar's test on paired predictions of two classifiers over the same test cells: only the discordant cells count
/// (b: first right and second wrong; c: the reverse). Exact two-sided binomial p-value when b + c &lt; 25, otherwise the
/// chi-square statistic with continuity correction (1 degree of freedom).
/// </summary>
public sealed record McNemarResult(int FirstOnlyCorrect, int SecondOnlyCorrect, double Statistic, double PValue, bool Exact)
{
    /// <param name="exact">The exact binomial test whatever the count of discordant cells (a table of many paired
    /// comparisons reads more simply when every p-value is of one kind).</param>
    public static McNemarResult Test(IReadOnlyList<bool> firstCorrect, IReadOnlyList<bool> secondCorrect, bool exact = false)
    {
        if (firstCorrect.Count != secondCorrect.Count) throw new ArgumentException($"{firstCorrect.Count} against {secondCorrect.Count} predictions: they must be paired");
        int b = 0, c = 0;
        for (int i = 0; i < firstCorrect.Count; i++)
        {
            if (firstCorrect[i] && !secondCorrect[i]) b++;
            else if (!firstCorrect[i] && secondCorrect[i]) c++;
        }
        int n = b + c;
        if (n == 0) return new McNemarResult(b, c, 0, 1, true);
        if (n < 25 || (exact && n <= 1000)) // 0.5^n stays a normal double up to n = 1022
        {
            // P(X ≤ min(b, c)) for X ~ Binomial(n, 1/2), doubled, capped at 1.
            double tail = 0, term = Math.Pow(0.5, n);
            for (int i = 0; i <= Math.Min(b, c); i++) { tail += term; term = term * (n - i) / (i + 1); }
            return new McNemarResult(b, c, Math.Min(b, c), Math.Min(1, 2 * tail), true);
        }
        double chi = Math.Pow(Math.Abs(b - c) - 1, 2) / n;
        return new McNemarResult(b, c, chi, ChiSquare1Tail(chi), false);
    }

    /// <summary>Upper tail of the chi-square distribution with 1 degree of freedom: erfc(√(x/2)) (Math.NET's erfc, to
    /// double precision).</summary>
    private static double ChiSquare1Tail(double x) => SpecialFunctions.Erfc(Math.Sqrt(x / 2));
}
