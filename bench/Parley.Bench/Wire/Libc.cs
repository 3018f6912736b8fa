using System.Runtime.InteropServices;

namespace Parley.Bench.Wire;

/// <summary>
/// The few Linux libc calls the one-to-one event loop makes: epoll, and recv/send on raw
/// non-blocking socket descriptors (no SafeHandle bookkeeping or async engine per call).
/// </summary>
internal static unsafe partial class Libc
{
    public const int EpollIn = 0x001, EpollOut = 0x004, EpollErr = 0x008, EpollHup = 0x010, EpollRdHup = 0x2000;
    public const int EpollCtlAdd = 1, EpollCtlDel = 2, EpollCtlMod = 3;
    public const int EpollCloexec = 0x80000;
    public const int MsgNoSignal = 0x4000;
    public const int EIntr = 4, EAgain = 11;

    /// <summary>
    /// sizeof(struct epoll_event): packed (4-byte events, 8-byte data: 12 bytes) on x86-64, naturally
    /// aligned (16 bytes) elsewhere. Events are read from a raw buffer with this stride.
    /// </summary>
    public static readonly int EpollEventBytes = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Where the 64-bit data field starts within an epoll_event.</summary>
    public static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    /// <summary>epoll_ctl with <paramref name="events"/> and a 32-bit token in the data field; throws on failure.</summary>
    public static void EpollControl(int epfd, int op, int fd, int events, uint token)
    {
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(int*)ev = events;
        *(uint*)(ev + EpollDataOffset) = token;
        if (EpollCtl(epfd, op, fd, ev) != 0)
        {
            throw new IOException($"epoll_ctl({op}) on fd {fd}: errno {Marshal.GetLastPInvokeError()}");
        }
    }
}
