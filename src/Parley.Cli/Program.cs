using Parley.Cli;

return await CliApp.Build().Parse(args).InvokeAsync();
