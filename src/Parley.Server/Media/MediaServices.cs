using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Parley.Server.Media;

/// <summary>Registers the media store: the filesystem backend unless one was registered before, quotas and the sweeper.</summary>
public static class MediaServices
{
    /// <summary>Adds the media capability's services; pair with <see cref="MediaEndpoints.MapMedia"/>.</summary>
    public static IServiceCollection AddMedia(this IServiceCollection services)
    {
        services.TryAddSingleton<IBlobStore, FileBlobStore>();
        services.AddSingleton<MediaQuota>();
        services.AddSingleton<MediaSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<MediaSweeper>());
        return services;
    }
}
