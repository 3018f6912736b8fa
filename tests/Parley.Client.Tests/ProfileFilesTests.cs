using Parley.Client.Storage;

namespace Parley.Client.Tests;

/// <summary>The profile holds the device secret and keys: its folder and every database file are the owner's alone.</summary>
public sealed class ProfileFilesTests : IDisposable
{
    private readonly TempProfile _profile = new();

    public void Dispose() => _profile.Dispose();

    [Fact]
    public void Profile_folder_and_every_database_file_are_private_to_the_owner_even_when_they_were_not()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        Directory.CreateDirectory(_profile.Path);
        File.SetUnixFileMode(_profile.Path, (UnixFileMode)0b111_101_101); // 0755
        using (var store = ClientStore.Open(_profile.Path))
        {
            store.SaveCredentials(new DeviceCredentialsProfile(new Uri("http://127.0.0.1:9/"), "alice", 1, "secret"));
            var files = Directory.GetFiles(_profile.Path);
            Assert.Contains(Path.Combine(_profile.Path, "parley.db-wal"), files);
            Assert.Contains(Path.Combine(_profile.Path, "parley.db-shm"), files);
            foreach (var file in files)
            {
                Assert.Equal((Path.GetFileName(file), UnixFileMode.UserRead | UnixFileMode.UserWrite), (Path.GetFileName(file), File.GetUnixFileMode(file)));
            }
        }
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_profile.Path));
    }
}
