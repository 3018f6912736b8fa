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

    // One render for a burst of changes: marking 5,000 messages read raises 5,000 status changes
    // in one go, and rendering after each made opening a long chat take tens of seconds.
    private bool _renderQueued;

    private void Refresh()
    {
        if (_renderQueued)
        {
            return;
        }
        _renderQueued = true;
        _ = InvokeAsync(async () =>
        {
            await Task.Yield();
            _renderQueued = false;
            StateHasChanged();
        });
    }
}
