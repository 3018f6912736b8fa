namespace Parley.Server.Messaging;

/// <summary>
/// What makes a send unique: the sending device and its client-chosen message id. The recipient
/// account is stored beside it, so a READ can be checked against what the peer really sent; with
/// <paramref name="NewContact"/> the store also records, in the same transaction, that the sender's
/// account has written to the recipient's (see Contacts.ContactBook).
/// </summary>
public sealed record DedupKey(long SenderDeviceKey, byte[] MessageId, long RecipientAccount = 0, bool NewContact = false);
