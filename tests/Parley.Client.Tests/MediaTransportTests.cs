using System.Text;
using Parley.Client.Media;
using Parley.Protocol;

namespace Parley.Client.Tests;

/// <summary>How the SDK's media transport reads the media store's refusals: which ones are worth a retry.</summary>
public sealed class MediaTransportTests
{
    [Theory]
    [InlineData(408, """{"code":"too_slow","message":"the body came too slowly"}""", ErrorCode.Unavailable)] // resumes from the offset kept
    [InlineData(423, """{"code":"upload_busy","message":"busy"}""", ErrorCode.Internal)]
    [InlineData(503, "", ErrorCode.Internal)]
    [InlineData(413, """{"code":"too_large","message":"too large"}""", ErrorCode.TooLarge)]
    [InlineData(400, """{"code":"bad_request","message":"no"}""", ErrorCode.BadRequest)]
    public async Task A_refused_PATCH_is_classed_by_its_status_and_code(int status, string body, ErrorCode expected)
    {
        await using var server = new HostileServer((_, _) => Task.CompletedTask)
        {
            Http = async context =>
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json";
                await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(body));
            },
        };
        using var transport = new MediaTransport(new DeviceCredentialsProfile(server.BaseUri, "bob", 1, "secret"));
        using var file = new MemoryStream(new byte[1000]);
        var refused = await Assert.ThrowsAsync<ParleyException>(() => transport.PatchAsync(MediaApi.BlobPath(new string('a', 32)), 0, file, 1000, _ => { }, CancellationToken.None));
        Assert.Equal(expected, refused.Code);
    }
}
