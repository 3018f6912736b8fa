using Microsoft.AspNetCore.Components.WebAssembly.Hosting;
using Microsoft.AspNetCore.Components.WebAssembly.Services;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Parley.Web;
using Parley.Web.Safety;
using Parley.Web.Session;

var builder = WebAssemblyHostBuilder.CreateDefault(args);
builder.RootComponents.Add<App>("#app");
builder.Services.AddSingleton<ChatSession>();
builder.Services.TryAddSingleton<LazyAssemblyLoader>();
builder.Services.AddSingleton<QrImage>();
await builder.Build().RunAsync();
