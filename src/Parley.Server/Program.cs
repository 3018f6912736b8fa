// The Parley server: `dotnet run --project src/Parley.Server -- [--urls URL] [--data DIR]`.
await Parley.Server.ParleyServer.Build(args).RunAsync();
