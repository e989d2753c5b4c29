using KubeBackup.Restic.Chunking;

namespace KubeBackup.Tests.Restic.Chunking;

// Vectors restated from restic/chunker's polynomials_test.go.
public class ChunkerPolynomialTests
{
    private const ulong TestPol = 0x3DA3358B4DC173;

    private static ulong Bin(string bits) => Convert.ToUInt64(bits, 2);

    [Theory]
    [InlineData(23UL, 16UL, 23UL ^ 16UL)]
    [InlineData(0x9a7e30d1e855e0a0UL, 0x670102a1f4bcd414UL, 0xfd7f32701ce934b4UL)]
    [InlineData(0x9a7e30d1e855e0a0UL, 0x9a7e30d1e855e0a0UL, 0UL)]
    public void Add_is_xor(ulong x, ulong y, ulong sum)
    {
        Assert.Equal(sum, ChunkerPolynomial.Add(x, y));
        Assert.Equal(sum, ChunkerPolynomial.Add(y, x));
    }

    public static TheoryData<ulong, ulong, ulong> MulCases => new()
    {
        { 1, 2, 2 },
        { Bin("1101"), Bin("10"), Bin("11010") },
        { Bin("1101"), Bin("11"), Bin("10111") },
        { 0x40000000, 0x40000000, 0x1000000000000000 },
        { Bin("1010"), Bin("100100"), Bin("101101000") },
        { Bin("100"), Bin("11"), Bin("1100") },
        { Bin("11"), Bin("110101"), Bin("1011111") },
        { Bin("10011"), Bin("110101"), Bin("1100001111") },
    };

    [Theory]
    [MemberData(nameof(MulCases))]
    public void Mul_is_carry_less(ulong x, ulong y, ulong product)
    {
        Assert.Equal(product, ChunkerPolynomial.Mul(x, y));
        Assert.Equal(product, ChunkerPolynomial.Mul(y, x));
    }

    [Fact]
    public void Mul_refuses_to_overflow()
    {
        Assert.Throws<OverflowException>(() => ChunkerPolynomial.Mul(1UL << 63, 2));
    }

    public static TheoryData<ulong, ulong, ulong> DivCases => new()
    {
        { 10, 50, 0 },
        { 0, 1, 0 },
        { Bin("101101000"), Bin("1010"), Bin("100100") },
        { 2, 2, 1 },
        { 0x8000000000000000, 0x8000000000000000, 1 },
        { Bin("1100"), Bin("100"), Bin("11") },
        { Bin("1100001111"), Bin("10011"), Bin("110101") },
    };

    [Theory]
    [MemberData(nameof(DivCases))]
    public void Div_gives_the_quotient(ulong x, ulong y, ulong quotient)
    {
        Assert.Equal(quotient, ChunkerPolynomial.Div(x, y));
    }

    public static TheoryData<ulong, ulong, ulong> ModCases => new()
    {
        { 10, 50, 10 },
        { 0, 1, 0 },
        { Bin("101101001"), Bin("1010"), Bin("1") },
        { 2, 2, 0 },
        { 0x8000000000000000, 0x8000000000000000, 0 },
        { Bin("1100"), Bin("100"), Bin("0") },
        { Bin("1100001111"), Bin("10011"), Bin("0") },
    };

    [Theory]
    [MemberData(nameof(ModCases))]
    public void Mod_gives_the_remainder(ulong x, ulong y, ulong remainder)
    {
        Assert.Equal(remainder, ChunkerPolynomial.Mod(x, y));
        Assert.Equal(remainder, ChunkerPolynomial.DivMod(x, y).Remainder);
    }

    [Fact]
    public void Division_by_zero_throws()
    {
        Assert.Throws<DivideByZeroException>(() => ChunkerPolynomial.Mod(5, 0));
        Assert.Throws<DivideByZeroException>(() => ChunkerPolynomial.DivMod(5, 0));
    }

    [Theory]
    [InlineData(0UL, -1)]
    [InlineData(1UL, 0)]
    [InlineData(0x3af4b284899UL, 41)]
    [InlineData(TestPol, 53)]
    [InlineData(0x8000000000000000UL, 63)]
    public void Degree_is_the_highest_set_bit(ulong value, int degree)
    {
        Assert.Equal(degree, new ChunkerPolynomial(value).Degree);
    }

    public static TheoryData<ulong, ulong, ulong> GcdCases => new()
    {
        { 10, 50, 2 },
        { 0, 1, 1 },
        { Bin("101101001"), Bin("1010"), Bin("1") },
        { 2, 2, 2 },
        { Bin("1010"), Bin("11"), Bin("11") },
        { 0x8000000000000000, 0x8000000000000000, 0x8000000000000000 },
        { Bin("1100"), Bin("101"), Bin("11") },
        { Bin("1100001111"), Bin("10011"), Bin("10011") },
        { TestPol, TestPol, TestPol },
        { TestPol, 0x230d2259defd, 1 },
        { 0x230d2259defd, 0x51b492b3eff2, Bin("10011") },
    };

    [Theory]
    [MemberData(nameof(GcdCases))]
    public void Gcd_is_symmetric_and_matches_restic(ulong x, ulong y, ulong gcd)
    {
        Assert.Equal(gcd, ChunkerPolynomial.Gcd(x, y));
        Assert.Equal(gcd, ChunkerPolynomial.Gcd(y, x));
    }

    [Theory]
    [InlineData(0x1230UL, 0x230UL, 0x55UL, 0x22UL)]
    [InlineData(0x0eae8c07dbbb3026UL, 0xd5d6db9de04771deUL, 0xdd2bda3b77c9UL, 0x425ae8595b7aUL)]
    public void MulMod_reduces_the_product(ulong x, ulong f, ulong g, ulong result)
    {
        Assert.Equal(result, ChunkerPolynomial.MulMod(x, f, g));
    }

    [Theory]
    [InlineData(0x38f1e565e288dfUL, false)]
    [InlineData(0x3DA3358B4DC173UL, true)]
    [InlineData(0x30a8295b9d5c91UL, false)]
    [InlineData(0x255f4350b962cbUL, false)]
    [InlineData(0x267f776110a235UL, false)]
    [InlineData(0x2f4dae10d41227UL, false)]
    [InlineData(0x2482734cacca49UL, true)]
    [InlineData(0x312daf4b284899UL, false)]
    [InlineData(0x29dfb6553d01d1UL, false)]
    [InlineData(0x3548245eb26257UL, false)]
    [InlineData(0x3199e7ef4211b3UL, false)]
    [InlineData(0x362f39017dae8bUL, false)]
    [InlineData(0x200d57aa6fdacbUL, false)]
    [InlineData(0x35e0a4efa1d275UL, false)]
    [InlineData(0x2ced55b026577fUL, false)]
    [InlineData(0x260b012010893dUL, false)]
    [InlineData(0x2df29cbcd59e9dUL, false)]
    [InlineData(0x3f2ac7488bd429UL, false)]
    [InlineData(0x3e5cb1711669fbUL, false)]
    [InlineData(0x226d8de57a9959UL, false)]
    [InlineData(0x3c8de80aaf5835UL, false)]
    [InlineData(0x2026a59efb219bUL, false)]
    [InlineData(0x39dfa4d13fb231UL, false)]
    [InlineData(0x3143d0464b3299UL, false)]
    public void Irreducibility_matches_restic(ulong value, bool irreducible)
    {
        Assert.Equal(irreducible, new ChunkerPolynomial(value).IsIrreducible);
    }

    [Theory]
    [InlineData(0b10UL, true)] // x
    [InlineData(0b11UL, true)] // x + 1
    [InlineData(0b111UL, true)] // x^2 + x + 1
    [InlineData(0b101UL, false)] // (x + 1)^2
    [InlineData(0b1011UL, true)] // x^3 + x + 1
    [InlineData(0b10011UL, true)] // x^4 + x + 1
    [InlineData(0b10101UL, false)] // (x^2 + x + 1)^2
    [InlineData(0UL, false)]
    [InlineData(1UL, false)]
    public void Irreducibility_of_small_polynomials(ulong value, bool irreducible)
    {
        Assert.Equal(irreducible, new ChunkerPolynomial(value).IsIrreducible);
    }

    [Fact]
    public void Expand_writes_the_terms()
    {
        Assert.Equal(
            "x^53+x^52+x^51+x^50+x^48+x^47+x^45+x^41+x^40+x^37+x^36+x^34+x^32+x^31+x^27+x^25+x^24+x^22+x^19+x^18+x^16+x^15+x^14+x^8+x^6+x^5+x^4+x+1",
            new ChunkerPolynomial(TestPol).Expand());
    }

    [Fact]
    public void Random_polynomials_are_irreducible_of_degree_53()
    {
        var seen = new HashSet<ulong>();
        for (var i = 0; i < 20; i++)
        {
            var p = ChunkerPolynomial.CreateRandom();
            Assert.Equal(53, p.Degree);
            Assert.True(p.IsIrreducible);
            Assert.Equal(1UL, p.Value & 1);
            seen.Add(p.Value);
        }

        Assert.True(seen.Count > 1);
    }

    [Theory]
    [InlineData("3da3358b4dc173", TestPol)]
    [InlineData("3DA3358B4DC173", TestPol)]
    [InlineData("0000003da3358B4dc173", TestPol)]
    [InlineData("0", 0UL)]
    [InlineData("ffffffffffffffff", ulong.MaxValue)]
    [InlineData("00000000000000000000ffffffffffffffff", ulong.MaxValue)]
    public void Parse_accepts_what_go_accepts(string text, ulong value)
    {
        Assert.Equal(value, ChunkerPolynomial.Parse(text).Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0x3da3358b4dc173")]
    [InlineData("+3da3358b4dc173")]
    [InlineData("-1")]
    [InlineData(" 3da3358b4dc173")]
    [InlineData("3da3358b4dc173 ")]
    [InlineData("3da3_358b4dc173")]
    [InlineData("3da3358b4dc17g")]
    [InlineData("10000000000000000")]
    [InlineData("\u0663")] // Arabic-Indic digit three: a digit to char.IsDigit, not to Go
    public void Parse_rejects_what_go_rejects(string text)
    {
        Assert.Throws<FormatException>(() => ChunkerPolynomial.Parse(text));
    }

    [Fact]
    public void ToString_is_bare_lower_case_hex()
    {
        Assert.Equal("3da3358b4dc173", new ChunkerPolynomial(TestPol).ToString());
        Assert.Equal("0", new ChunkerPolynomial(0).ToString());
        var p = ChunkerPolynomial.CreateRandom();
        Assert.Equal(p, ChunkerPolynomial.Parse(p.ToString()));
    }
}
