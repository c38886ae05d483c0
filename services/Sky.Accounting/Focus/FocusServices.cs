namespace Sky.Accounting.Focus;

/// <summary>
/// FOCUS ServiceCategory and ServiceSubcategory (allowed values of FOCUS 1.2) for the services usage is rated for:
/// compute is virtual machines; egress and transfer gateways connect networks; object storage is storage. A provider's
/// own service not known here is "Other".
/// </summary>
public static class FocusServices
{
    public static (string Category, string Subcategory) Classify(string service) => service switch
    {
        "compute" => ("Compute", "Virtual Machines"),
        "egress" or "transfer-gateway" => ("Networking", "Network Connectivity"),
        "object-storage" or "storage" => ("Storage", "Object Storage"),
        "block-storage" => ("Storage", "Block Storage"),
        "queue" or "queues" => ("Integration", "Messaging"),
        _ => ("Other", "Other (Other)"),
    };
}
