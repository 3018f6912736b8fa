using Microsoft.Playwright;

namespace Parley.Web.Bench;

/// <summary>One cold load: what crossed the network and when the first screen took input.</summary>
/// <param name="Page">The loaded page, for the next measurements.</param>
/// <param name="Bytes">Bytes received on the wire (headers and compressed bodies).</param>
/// <param name="Requests">How many requests the load made.</param>
/// <param name="Interactive">From navigation start until the registration field accepted input.</param>
public sealed record ColdLoad(IPage Page, long Bytes, int Requests, TimeSpan Interactive);
