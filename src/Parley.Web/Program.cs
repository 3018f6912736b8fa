using Microsoft.AspNetCore.Components.WebAssembly.Hosting;
using Parley.Web;
using Parley.Web.Session;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
builder.Services.AddSingleton<ChatSession>();
await builder.Build().RunAsync();
