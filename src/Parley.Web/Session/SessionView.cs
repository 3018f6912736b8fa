using Microsoft.AspNetCore.Components;

namespace Parley.Web.Session;

/// <summary>
/// A component that re-renders whenever the <see cref="ChatSession"/> changes. Blazor re-renders a
/// child only when its parameters change, so each view listens for itself.
/// </summary>
public abstract class SessionView : ComponentBase, IDisposable
{
    /// <summary>This browser's session.</summary>
    [Inject] protected ChatSession Session { get; set; } = null!;

    protected override void OnInitialized() => Session.Changed += Refresh;

    public void Dispose()
    {
        Session.Changed -= Refresh;
        GC.SuppressFinalize(this);
    }

    private void Refresh() => _ = InvokeAsync(StateHasChanged);
}
