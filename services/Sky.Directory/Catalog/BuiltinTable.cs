namespace Sky.Directory.Catalog;

/// <summary>
/// The data behind <see cref="BuiltinCatalog"/>: per cloud, its regions (with zones) and a row per instance
/// type with its hourly on-demand USD price in each region, in the column order of the regions.
/// </summary>
internal static class BuiltinTable
{
    public sealed record Region(string Name, string[] Zones);

    public sealed record Gpu(string Name, int Count, double MemoryGib);

    /// <summary>One instance type: specs and its hourly on-demand price per region of its cloud (null: not offered there).</summary>
    public sealed record Machine(string Name, double Vcpus, double MemoryGib, decimal?[] Prices, Gpu? Gpu = null, bool Arm = false, string? Generation = null);

    public sealed record Cloud(string Provider, Region[] Regions, Machine[] Types, Dictionary<string, string[]> ZoneOverrides);

    // Sources: aws.amazon.com/ec2/pricing/on-demand, cloud.google.com/compute/vm-instance-pricing and
    // cloud.google.com/compute/gpus-pricing, azure.microsoft.com/pricing/details/virtual-machines/linux.
    // Cross-checked against SkyPilot's v8 catalogs in ../shared/catalogs/skypilot (AWS official, GCP and Azure
    // mirrored 2026-05-20), which come from the providers' price APIs; AWS's P4/P5 prices are after its
    // June 2025 cut.
    public static readonly Cloud[] Clouds =
    [
        new("aws",
            [new("us-east-1", ["use1-az1", "use1-az2"]), new("us-west-2", ["usw2-az1", "usw2-az2"]),
             new("eu-west-1", ["euw1-az2", "euw1-az3"]), new("ap-northeast-1", ["apne1-az1", "apne1-az4"])],
            [
                //                    vCPU  GiB    us-east-1  us-west-2  eu-west-1  ap-northeast-1
                new("m6i.large",        2,    8, [0.096m,    0.096m,    0.107m,    0.124m]),
                new("m6i.xlarge",       4,   16, [0.192m,    0.192m,    0.214m,    0.248m]),
                new("m6i.2xlarge",      8,   32, [0.384m,    0.384m,    0.428m,    0.496m]),
                new("m6i.4xlarge",     16,   64, [0.768m,    0.768m,    0.856m,    0.992m]),
                new("m6i.8xlarge",     32,  128, [1.536m,    1.536m,    1.712m,    1.984m]),
                new("m7i.large",        2,    8, [0.1008m,   0.1008m,   0.11235m,  0.1302m]),
                new("m7i.xlarge",       4,   16, [0.2016m,   0.2016m,   0.2247m,   0.2604m]),
                new("m7i.2xlarge",      8,   32, [0.4032m,   0.4032m,   0.4494m,   0.5208m]),
                new("m7g.large",        2,    8, [0.0816m,   0.0816m,   0.091m,    0.1054m], Arm: true),
                new("m7g.xlarge",       4,   16, [0.1632m,   0.1632m,   0.1819m,   0.2108m], Arm: true),
                new("m7g.2xlarge",      8,   32, [0.3264m,   0.3264m,   0.3638m,   0.4216m], Arm: true),
                new("c6i.large",        2,    4, [0.085m,    0.085m,    0.0912m,   0.107m]),
                new("c6i.xlarge",       4,    8, [0.17m,     0.17m,     0.1824m,   0.214m]),
                new("c6i.2xlarge",      8,   16, [0.34m,     0.34m,     0.3648m,   0.428m]),
                new("c6i.4xlarge",     16,   32, [0.68m,     0.68m,     0.7296m,   0.856m]),
                new("c7g.xlarge",       4,    8, [0.145m,    0.145m,    0.155m,    0.1819m], Arm: true),
                new("c7g.2xlarge",      8,   16, [0.29m,     0.29m,     0.3101m,   0.3638m], Arm: true),
                new("r6i.large",        2,   16, [0.126m,    0.126m,    0.141m,    0.152m]),
                new("r6i.xlarge",       4,   32, [0.252m,    0.252m,    0.282m,    0.304m]),
                new("r6i.2xlarge",      8,   64, [0.504m,    0.504m,    0.564m,    0.608m]),
                new("r6i.4xlarge",     16,  128, [1.008m,    1.008m,    1.128m,    1.216m]),
                new("t3.medium",        2,    4, [0.0416m,   0.0416m,   0.0456m,   0.0544m]),
                new("t3.large",         2,    8, [0.0832m,   0.0832m,   0.0912m,   0.1088m]),
                new("g4dn.xlarge",      4,   16, [0.526m,    0.526m,    0.587m,    0.71m],      new("T4", 1, 16)),
                new("g5.xlarge",        4,   16, [1.006m,    1.006m,    1.123m,    1.459m],     new("A10G", 1, AwsA10GOrL4)),
                new("g5.2xlarge",       8,   32, [1.212m,    1.212m,    1.35296m,  1.75776m],   new("A10G", 1, AwsA10GOrL4)),
                new("g5.12xlarge",     48,  192, [5.672m,    5.672m,    6.33167m,  8.22609m],   new("A10G", 4, AwsA10GOrL4)),
                new("g5.48xlarge",    192,  768, [16.288m,   16.288m,   18.18233m, 23.62246m],  new("A10G", 8, AwsA10GOrL4)),
                new("g6.xlarge",        4,   16, [0.8048m,   0.8048m,   null,      1.1672m],    new("L4", 1, AwsA10GOrL4)),
                new("p3.2xlarge",       8,   61, [3.06m,     3.06m,     3.305m,    4.194m],     new("V100", 1, 16)),
                new("p3.8xlarge",      32,  244, [12.24m,    12.24m,    13.22m,    16.776m],    new("V100", 4, 16)),
                new("p4d.24xlarge",    96, 1152, [21.957642m, 21.95764m, 23.71569m, 30.09784m], new("A100", 8, 40)),
                new("p5.48xlarge",    192, 2048, [55.04m,    55.04m,    null,      68.8m],      new("H100", 8, 80)),
            ],
            new() { ["p4d.24xlarge/eu-west-1"] = ["euw1-az2"] }),

        // GPU machines are the machine-type price plus the GPUs' (GCP bills them as separate SKUs, see
        // GcpAcceleratorPricing). A2 and A3 are listed where their GPU SKU is priced like us-central1's;
        // the 2026 snapshot's A100 prices elsewhere are below the US one, which we did not take on trust.
        new("gcp",
            [new("us-central1", ["us-central1-a", "us-central1-b"]), new("europe-west4", ["europe-west4-a", "europe-west4-b"]),
             new("asia-northeast1", ["asia-northeast1-a", "asia-northeast1-c"])],
            [
                //                    vCPU  GiB    us-central1            europe-west4           asia-northeast1
                new("e2-standard-2",    2,    8, [0.06701m,             0.07377m,              0.08597m]),
                new("e2-standard-4",    4,   16, [0.13402m,             0.14754m,              0.17193m]),
                new("e2-standard-8",    8,   32, [0.26805m,             0.29509m,              0.34386m]),
                new("e2-highmem-4",     4,   32, [0.1808m,              0.19903m,              0.23176m]),
                new("n2-standard-2",    2,    8, [0.09712m,             0.10692m,              0.12459m]),
                new("n2-standard-4",    4,   16, [0.19424m,             0.21383m,              0.24918m]),
                new("n2-standard-8",    8,   32, [0.38847m,             0.42766m,              0.49835m]),
                new("n2-standard-16",  16,   64, [0.77694m,             0.85533m,              0.9967m]),
                new("n2-standard-32",  32,  128, [1.55389m,             1.71066m,              1.99341m]),
                new("n2-highmem-4",     4,   32, [0.26203m,             0.28846m,              0.33588m]),
                new("n2-highmem-8",     8,   64, [0.52406m,             0.57691m,              0.67176m]),
                new("n2-highcpu-8",     8,    8, [0.28678m,             0.31573m,              0.3683m]),
                new("n2-highcpu-16",   16,   16, [0.57357m,             0.63146m,              0.73659m]),
                new("n2d-standard-8",   8,   32, [0.33797m,             0.37208m,              0.43358m]),
                new("n4-standard-8",    8,   32, [0.3628m,              0.38094m,              0.46591m]),
                new("c3-standard-8",    8,   32, [0.40322m,             0.42338m,              0.51781m]),
                new("c2-standard-8",    8,   32, [0.41762m,             0.45974m,              0.53571m]),
                new("t2a-standard-4",   4,   16, [0.154m,               0.16178m,              null], Arm: true),
                new("t2a-standard-8",   8,   32, [0.308m,               0.32355m,              null], Arm: true),
                new("n1-standard-8",    8,   30, [0.38m,                0.41834m,              0.48751m]),
                new("g2-standard-4",    4,   16, [0.14679m + 0.56004m,  0.15429m + 0.58804m,   0.18851m + 0.7192m],   new("L4", 1, 24)),
                new("g2-standard-8",    8,   32, [0.29358m + 0.56004m,  0.30857m + 0.58804m,   0.37702m + 0.7192m],   new("L4", 1, 24)),
                new("g2-standard-24",  24,   96, [0.88075m + 1.12008m,  0.92571m + 1.17608m,   1.13106m + 1.43841m],  new("L4", 2, 24)),
                new("g2-standard-48",  48,  192, [1.7615m + 2.24016m,   1.85143m + 2.35217m,   2.26212m + 2.87681m],  new("L4", 4, 24)),
                new("a2-highgpu-1g",   12,   85, [0.73948m + 2.93391m,  null,                  null],                 new("A100", 1, 40)),
                new("a2-highgpu-2g",   24,  170, [1.47895m + 5.86782m,  null,                  null],                 new("A100", 2, 40)),
                new("a2-highgpu-4g",   48,  340, [2.95791m + 11.73563m, null,                  null],                 new("A100", 4, 40)),
                new("a2-highgpu-8g",   96,  680, [5.91582m + 23.47126m, null,                  null],                 new("A100", 8, 40)),
                new("a2-ultragpu-1g",  12,  170, [1.09962m + 1.8462m,   null,                  null],                 new("A100-80GB", 1, 80)),
                new("a2-ultragpu-8g",  96, 1360, [8.79698m + 14.76958m, null,                  null],                 new("A100-80GB", 8, 80)),
                new("a3-highgpu-8g",  208, 1872, [9.46006m + 33.60609m, null,                  12.14861m + 33.60609m], new("H100", 8, 80)),
            ],
            new()
            {
                ["c3-standard-8/asia-northeast1"] = ["asia-northeast1-c"],
                ["a2-ultragpu-1g/us-central1"] = ["us-central1-a", "us-central1-c"],
                ["a2-ultragpu-8g/us-central1"] = ["us-central1-a", "us-central1-c"],
                ["a3-highgpu-8g/asia-northeast1"] = ["asia-northeast1-b"],
            }),

        new("azure",
            [new("eastus", []), new("westeurope", []), new("japaneast", [])],
            [
                //                               vCPU  GiB    eastus    westeurope  japaneast
                new("Standard_D2s_v5",             2,    8, [0.096m,   0.115m,    0.124m], Generation: "V1,V2"),
                new("Standard_D4s_v5",             4,   16, [0.192m,   0.23m,     0.248m], Generation: "V1,V2"),
                new("Standard_D8s_v5",             8,   32, [0.384m,   0.46m,     0.496m], Generation: "V1,V2"),
                new("Standard_D16s_v5",           16,   64, [0.768m,   0.92m,     0.992m], Generation: "V1,V2"),
                new("Standard_D32s_v5",           32,  128, [1.536m,   1.84m,     1.984m], Generation: "V1,V2"),
                new("Standard_D2as_v5",            2,    8, [0.086m,   0.104m,    0.112m], Generation: "V1,V2"),
                new("Standard_D4as_v5",            4,   16, [0.172m,   0.208m,    0.224m], Generation: "V1,V2"),
                new("Standard_D8as_v5",            8,   32, [0.344m,   0.416m,    0.448m], Generation: "V1,V2"),
                new("Standard_D2ps_v5",            2,    8, [0.077m,   0.092m,    0.099m], Arm: true, Generation: "V2"),
                new("Standard_D4ps_v5",            4,   16, [0.154m,   0.184m,    0.198m], Arm: true, Generation: "V2"),
                new("Standard_D8ps_v5",            8,   32, [0.308m,   0.368m,    0.396m], Arm: true, Generation: "V2"),
                new("Standard_E2s_v5",             2,   16, [0.126m,   0.152m,    0.152m], Generation: "V1,V2"),
                new("Standard_E4s_v5",             4,   32, [0.252m,   0.304m,    0.304m], Generation: "V1,V2"),
                new("Standard_E8s_v5",             8,   64, [0.504m,   0.608m,    0.608m], Generation: "V1,V2"),
                new("Standard_E16s_v5",           16,  128, [1.008m,   1.216m,    1.216m], Generation: "V1,V2"),
                new("Standard_F2s_v2",             2,    4, [0.0846m,  0.097m,    0.107m], Generation: "V1,V2"),
                new("Standard_F4s_v2",             4,    8, [0.169m,   0.194m,    0.214m], Generation: "V1,V2"),
                new("Standard_F8s_v2",             8,   16, [0.338m,   0.388m,    0.428m], Generation: "V1,V2"),
                new("Standard_F16s_v2",           16,   32, [0.677m,   0.776m,    0.856m], Generation: "V1,V2"),
                new("Standard_B2s",                2,    4, [0.0416m,  0.048m,    0.0544m], Generation: "V1,V2"),
                new("Standard_B2ms",               2,    8, [0.0832m,  0.096m,    0.109m], Generation: "V1,V2"),
                new("Standard_NC4as_T4_v3",        4,   28, [0.526m,   0.658m,    0.71m],    new("T4", 1, 16), Generation: "V1,V2"),
                new("Standard_NC8as_T4_v3",        8,   56, [0.752m,   0.94m,     1.015m],   new("T4", 1, 16), Generation: "V1,V2"),
                new("Standard_NV36ads_A10_v5",    36,  440, [3.2m,     4.16m,     4.64m],    new("A10", 1, 24), Generation: "V1,V2"),
                new("Standard_NC24ads_A100_v4",   24,  220, [3.673m,   4.775m,    5.326m],   new("A100-80GB", 1, 80), Generation: "V2"),
                new("Standard_NC48ads_A100_v4",   48,  440, [7.346m,   9.55m,     10.652m],  new("A100-80GB", 2, 80), Generation: "V2"),
                new("Standard_NC96ads_A100_v4",   96,  880, [14.692m,  19.1m,     21.303m],  new("A100-80GB", 4, 80), Generation: "V2"),
                new("Standard_ND96asr_v4",        96,  900, [27.197m,  35.357m,   null],     new("A100", 8, 40), Generation: "V2"),
                new("Standard_ND96amsr_A100_v4",  96, 1800, [32.77m,   40.962m,   47.517m],  new("A100-80GB", 8, 80), Generation: "V2"),
                // H100 NVL: 94 GB per GPU; SkyPilot names it H100.
                new("Standard_NC40ads_H100_v5",   40,  320, [6.98m,    9.08m,     10.121m],  new("H100", 1, 94), Generation: "V2"),
                new("Standard_ND96isr_H100_v5",   96, 1900, [98.32m,   127.816m,  142.564m], new("H100", 8, 80), Generation: "V2"),
            ],
            []),
    ];

    // AWS reports 22,888 MiB for the A10G and the L4 (EC2 DescribeInstanceTypes), not the nominal 24 GB.
    public const double AwsA10GOrL4 = 22888 / 1024.0;
}
