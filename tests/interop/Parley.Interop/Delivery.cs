namespace Parley.Interop;

/// <summary>A lossy, reordering network: which messages arrive, and in what order.</summary>
internal static class Delivery
{
    /// <summary>
    /// Indexes 0..count-1 with every <paramref name="dropEvery"/>-th dropped and the rest shuffled
    /// within windows of <paramref name="window"/> (seeded, so a failure can be replayed).
    /// </summary>
    public static List<int> Order(int count, int dropEvery, int window, int seed)
    {
        var random = new Random(seed);
        var order = new List<int>(count);
        for (int start = 0; start < count; start += window)
        {
            int[] block = Enumerable.Range(start, Math.Min(window, count - start))
                .Where(i => dropEvery <= 0 || i % dropEvery != dropEvery - 1)
                .ToArray();
            random.Shuffle(block);
            order.AddRange(block);
        }

        return order;
    }
}
