using System.Globalization;
using System.Text;

namespace KubeBackup.Benchmarks.Data;

/// <summary>
/// A fixed pool of text lines (prose, log records, code, JSON) built once from the seed. Files are filled with lines
/// drawn from the pool: that repeats words and whole lines the way real source trees and logs do, so zstd level 3
/// compresses the result about 3x, close to what restic sees on typical text.
/// </summary>
internal sealed class TextPool
{
    private const int VocabularySize = 4096;
    private const int LineCount = 65536;

    // Letters ordered by English frequency; drawing with a skew toward the front gives word shapes with a realistic
    // letter distribution, which is what an entropy coder keys on.
    private const string Letters = "etaoinshrdlcumwfgypbvkjxqz";

    private static readonly string[] Levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];

    private readonly byte[][] _lines;

    public TextPool(ulong seed)
    {
        var rng = Rng.For(seed, "text-pool");
        var vocabulary = new string[VocabularySize];
        var sb = new StringBuilder();
        for (int i = 0; i < vocabulary.Length; i++)
        {
            sb.Clear();
            int length = rng.Between(2, 10);
            for (int j = 0; j < length; j++)
            {
                sb.Append(Letters[rng.Skewed(Letters.Length, 1.7)]);
            }

            vocabulary[i] = sb.ToString();
        }

        string Word() => vocabulary[rng.Skewed(vocabulary.Length, 3.0)];
        var epoch = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        _lines = new byte[LineCount][];
        for (int i = 0; i < LineCount; i++)
        {
            sb.Clear();
            switch (i % 4)
            {
                case 0:
                    {
                        int n = rng.Between(6, 16);
                        for (int k = 0; k < n; k++)
                        {
                            string w = Word();
                            sb.Append(k == 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w).Append(k == n - 1 ? "." : " ");
                        }

                        break;
                    }

                case 1:
                    {
                        var ts = epoch.AddSeconds(rng.Between(0, 30 * 86400));
                        sb.Append(ts.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))
                          .Append(' ').Append(Levels[rng.Between(0, Levels.Length - 1)].PadRight(5))
                          .Append(' ').Append(Word()).Append('.').Append(Word()).Append(':');
                        int n = rng.Between(2, 8);
                        for (int k = 0; k < n; k++)
                        {
                            sb.Append(' ').Append(Word());
                        }

                        sb.Append(CultureInfo.InvariantCulture, $" {Word()}={rng.Between(0, 99999)} {Word()}={Word()}");
                        break;
                    }

                case 2:
                    sb.Append(' ', 4 * rng.Between(0, 3))
                      .Append(CultureInfo.InvariantCulture, $"fn {Word()}_{Word()}({Word()}, {Word()}) {{ return {Word()} + {rng.Between(0, 999)}; }}");
                    break;

                default:
                    sb.Append(CultureInfo.InvariantCulture,
                        $"{{\"{Word()}\": \"{Word()}\", \"{Word()}\": {rng.Between(0, 1 << 20)}, \"{Word()}\": [{rng.Between(0, 99)}, {rng.Between(0, 99)}]}}");
                    break;
            }

            _lines[i] = Encoding.ASCII.GetBytes(sb.ToString());
        }
    }

    /// <summary>Writes exactly <paramref name="destination"/>.Length bytes: a header line, then pool lines picked by
    /// <paramref name="rng"/>, the last one cut at the end.</summary>
    public void Fill(Span<byte> destination, string header, Rng rng)
    {
        int pos = 0;
        pos += Put(destination, pos, Encoding.ASCII.GetBytes(header));
        while (pos < destination.Length)
        {
            destination[pos++] = (byte)'\n';
            pos += Put(destination, pos, _lines[rng.Between(0, _lines.Length - 1)]);
        }
    }

    private static int Put(Span<byte> destination, int pos, ReadOnlySpan<byte> line)
    {
        int n = Math.Min(line.Length, destination.Length - pos);
        line[..n].CopyTo(destination[pos..]);
        return n;
    }
}
