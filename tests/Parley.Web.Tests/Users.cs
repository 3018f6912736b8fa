namespace Parley.Web.Tests;

/// <summary>User names unique to one test run, so tests sharing a server never collide.</summary>
public static class Users
{
    /// <summary>A fresh user name starting with <paramref name="prefix"/>.</summary>
    public static string New(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];
}
