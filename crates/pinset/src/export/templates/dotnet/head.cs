
/// <summary>
/// An <see cref="HttpClient"/> for the site's servers: the certificate must chain to one of the
/// site's anchors, name the address dialled, and a pinned key must be in the validated chain.
/// A host that is not one of the site's servers is refused.
/// </summary>
public static class PinsetPinning
{
