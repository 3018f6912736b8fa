namespace Parley.Server.Push;

/// <summary>Durable push subscriptions, at most one per device. Calls are rare (subscribe, push), so they are synchronous.</summary>
public interface IPushTargetStore
{
    /// <summary>The device's subscription, or null.</summary>
    PushTarget? Get(long deviceKey);

    /// <summary>Every device that has a subscription, for the in-memory index at start-up.</summary>
    IReadOnlyList<long> Devices();

    /// <summary>Sets the device's subscription, replacing any it had.</summary>
    void Put(PushTarget target);

    /// <summary>Removes the device's subscription; false when it had none.</summary>
    bool Remove(long deviceKey);
}
