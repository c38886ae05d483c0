namespace Sky.Directory.Query;

/// <summary>A point on the Earth in degrees.</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude);

/// <summary>
/// Approximate centres (the city or metro area each cloud publishes for the region) of the main AWS,
/// GCP and Azure regions, for ranking offers by distance. Accurate to tens of kilometres, which is all
/// a "nearest region" ranking needs; regions not listed rank after every known one.
/// </summary>
public static class RegionCentres
{
    private static readonly (string Provider, string Region, double Lat, double Lon)[] Table =
    [
        // AWS
        ("aws", "us-east-1", 39.04, -77.49),          // N. Virginia (Ashburn)
        ("aws", "us-east-2", 39.96, -83.00),          // Ohio (Columbus)
        ("aws", "us-west-1", 37.35, -121.96),         // N. California
        ("aws", "us-west-2", 45.84, -119.70),         // Oregon (Boardman)
        ("aws", "ca-central-1", 45.50, -73.57),       // Montreal
        ("aws", "ca-west-1", 51.05, -114.07),         // Calgary
        ("aws", "mx-central-1", 20.59, -100.39),      // Queretaro
        ("aws", "sa-east-1", -23.55, -46.63),         // Sao Paulo
        ("aws", "eu-west-1", 53.35, -6.26),           // Ireland (Dublin)
        ("aws", "eu-west-2", 51.51, -0.13),           // London
        ("aws", "eu-west-3", 48.86, 2.35),            // Paris
        ("aws", "eu-central-1", 50.11, 8.68),         // Frankfurt
        ("aws", "eu-central-2", 47.37, 8.54),         // Zurich
        ("aws", "eu-south-1", 45.46, 9.19),           // Milan
        ("aws", "eu-south-2", 41.65, -0.88),          // Spain (Aragon)
        ("aws", "eu-north-1", 59.33, 18.07),          // Stockholm
        ("aws", "il-central-1", 32.08, 34.78),        // Tel Aviv
        ("aws", "me-south-1", 26.07, 50.56),          // Bahrain
        ("aws", "me-central-1", 24.47, 54.37),        // UAE
        ("aws", "af-south-1", -33.92, 18.42),         // Cape Town
        ("aws", "ap-east-1", 22.30, 114.17),          // Hong Kong
        ("aws", "ap-east-2", 25.03, 121.56),          // Taipei
        ("aws", "ap-south-1", 19.08, 72.88),          // Mumbai
        ("aws", "ap-south-2", 17.39, 78.49),          // Hyderabad
        ("aws", "ap-southeast-1", 1.35, 103.82),      // Singapore
        ("aws", "ap-southeast-2", -33.87, 151.21),    // Sydney
        ("aws", "ap-southeast-3", -6.20, 106.85),     // Jakarta
        ("aws", "ap-southeast-4", -37.81, 144.96),    // Melbourne
        ("aws", "ap-southeast-5", 3.14, 101.69),      // Malaysia
        ("aws", "ap-southeast-7", 13.76, 100.50),     // Thailand
        ("aws", "ap-northeast-1", 35.68, 139.69),     // Tokyo
        ("aws", "ap-northeast-2", 37.57, 126.98),     // Seoul
        ("aws", "ap-northeast-3", 34.69, 135.50),     // Osaka
        ("aws", "us-gov-east-1", 39.96, -83.00),      // GovCloud (US-East), Ohio
        ("aws", "us-gov-west-1", 45.52, -122.68),     // GovCloud (US-West), Oregon

        // GCP
        ("gcp", "us-central1", 41.26, -95.86),        // Council Bluffs, Iowa
        ("gcp", "us-central2", 36.31, -95.32),        // Pryor, Oklahoma
        ("gcp", "us-east1", 33.20, -80.01),           // Moncks Corner, South Carolina
        ("gcp", "us-east4", 39.04, -77.49),           // Ashburn, Virginia
        ("gcp", "us-east5", 39.96, -83.00),           // Columbus, Ohio
        ("gcp", "us-south1", 32.78, -96.80),          // Dallas
        ("gcp", "us-west1", 45.60, -121.18),          // The Dalles, Oregon
        ("gcp", "us-west2", 34.05, -118.24),          // Los Angeles
        ("gcp", "us-west3", 40.76, -111.89),          // Salt Lake City
        ("gcp", "us-west4", 36.17, -115.14),          // Las Vegas
        ("gcp", "northamerica-northeast1", 45.50, -73.57), // Montreal
        ("gcp", "northamerica-northeast2", 43.65, -79.38), // Toronto
        ("gcp", "northamerica-south1", 20.59, -100.39),    // Queretaro
        ("gcp", "southamerica-east1", -23.55, -46.63),     // Sao Paulo
        ("gcp", "southamerica-west1", -33.45, -70.67),     // Santiago
        ("gcp", "europe-west1", 50.47, 3.82),         // St. Ghislain, Belgium
        ("gcp", "europe-west2", 51.51, -0.13),        // London
        ("gcp", "europe-west3", 50.11, 8.68),         // Frankfurt
        ("gcp", "europe-west4", 53.44, 6.83),         // Eemshaven, Netherlands
        ("gcp", "europe-west6", 47.37, 8.54),         // Zurich
        ("gcp", "europe-west8", 45.46, 9.19),         // Milan
        ("gcp", "europe-west9", 48.86, 2.35),         // Paris
        ("gcp", "europe-west10", 52.52, 13.40),       // Berlin
        ("gcp", "europe-west12", 45.07, 7.69),        // Turin
        ("gcp", "europe-central2", 52.23, 21.01),     // Warsaw
        ("gcp", "europe-north1", 60.57, 27.20),       // Hamina, Finland
        ("gcp", "europe-north2", 59.33, 18.07),       // Stockholm
        ("gcp", "europe-southwest1", 40.42, -3.70),   // Madrid
        ("gcp", "me-west1", 32.08, 34.78),            // Tel Aviv
        ("gcp", "me-central1", 25.29, 51.53),         // Doha
        ("gcp", "me-central2", 26.43, 50.10),         // Dammam
        ("gcp", "africa-south1", -26.20, 28.05),      // Johannesburg
        ("gcp", "asia-east1", 24.05, 120.52),         // Changhua, Taiwan
        ("gcp", "asia-east2", 22.30, 114.17),         // Hong Kong
        ("gcp", "asia-northeast1", 35.68, 139.69),    // Tokyo
        ("gcp", "asia-northeast2", 34.69, 135.50),    // Osaka
        ("gcp", "asia-northeast3", 37.57, 126.98),    // Seoul
        ("gcp", "asia-south1", 19.08, 72.88),         // Mumbai
        ("gcp", "asia-south2", 28.61, 77.21),         // Delhi
        ("gcp", "asia-southeast1", 1.34, 103.71),     // Jurong West, Singapore
        ("gcp", "asia-southeast2", -6.20, 106.85),    // Jakarta
        ("gcp", "asia-southeast3", 13.76, 100.50),    // Bangkok
        ("gcp", "australia-southeast1", -33.87, 151.21), // Sydney
        ("gcp", "australia-southeast2", -37.81, 144.96), // Melbourne

        // Azure
        ("azure", "eastus", 37.37, -79.82),           // Virginia
        ("azure", "eastus2", 36.67, -78.39),          // Virginia
        ("azure", "centralus", 41.59, -93.60),        // Iowa
        ("azure", "northcentralus", 41.88, -87.63),   // Illinois
        ("azure", "southcentralus", 29.42, -98.49),   // Texas
        ("azure", "westcentralus", 41.14, -104.82),   // Wyoming
        ("azure", "westus", 37.78, -122.42),          // California
        ("azure", "westus2", 47.23, -119.85),         // Washington
        ("azure", "westus3", 33.45, -112.07),         // Arizona
        ("azure", "canadacentral", 43.65, -79.38),    // Toronto
        ("azure", "canadaeast", 46.82, -71.22),       // Quebec City
        ("azure", "mexicocentral", 20.59, -100.39),   // Queretaro
        ("azure", "brazilsouth", -23.55, -46.63),     // Sao Paulo
        ("azure", "brazilsoutheast", -22.91, -43.17), // Rio de Janeiro
        ("azure", "chilecentral", -33.45, -70.67),    // Santiago
        ("azure", "northeurope", 53.35, -6.26),       // Ireland
        ("azure", "westeurope", 52.37, 4.90),         // Netherlands
        ("azure", "uksouth", 51.51, -0.13),           // London
        ("azure", "ukwest", 51.48, -3.18),            // Cardiff
        ("azure", "francecentral", 48.86, 2.35),      // Paris
        ("azure", "francesouth", 43.30, 5.37),        // Marseille
        ("azure", "germanywestcentral", 50.11, 8.68), // Frankfurt
        ("azure", "germanynorth", 52.52, 13.40),      // Berlin
        ("azure", "switzerlandnorth", 47.37, 8.54),   // Zurich
        ("azure", "switzerlandwest", 46.20, 6.14),    // Geneva
        ("azure", "norwayeast", 59.91, 10.75),        // Oslo
        ("azure", "norwaywest", 58.97, 5.73),         // Stavanger
        ("azure", "swedencentral", 60.67, 17.14),     // Gavle
        ("azure", "denmarkeast", 55.68, 12.57),       // Copenhagen
        ("azure", "polandcentral", 52.23, 21.01),     // Warsaw
        ("azure", "austriaeast", 48.21, 16.37),       // Vienna
        ("azure", "belgiumcentral", 50.85, 4.35),     // Brussels
        ("azure", "italynorth", 45.46, 9.19),         // Milan
        ("azure", "spaincentral", 40.42, -3.70),      // Madrid
        ("azure", "israelcentral", 32.08, 34.78),     // Tel Aviv
        ("azure", "qatarcentral", 25.29, 51.53),      // Doha
        ("azure", "uaenorth", 25.27, 55.30),          // Dubai
        ("azure", "uaecentral", 24.47, 54.37),        // Abu Dhabi
        ("azure", "southafricanorth", -26.20, 28.05), // Johannesburg
        ("azure", "southafricawest", -33.92, 18.42),  // Cape Town
        ("azure", "centralindia", 18.52, 73.86),      // Pune
        ("azure", "southindia", 13.08, 80.27),        // Chennai
        ("azure", "westindia", 19.08, 72.88),         // Mumbai
        ("azure", "jioindiacentral", 21.15, 79.09),   // Nagpur
        ("azure", "jioindiawest", 22.47, 70.06),      // Jamnagar
        ("azure", "eastasia", 22.30, 114.17),         // Hong Kong
        ("azure", "southeastasia", 1.28, 103.83),     // Singapore
        ("azure", "japaneast", 35.68, 139.69),        // Tokyo
        ("azure", "japanwest", 34.69, 135.50),        // Osaka
        ("azure", "koreacentral", 37.57, 126.98),     // Seoul
        ("azure", "koreasouth", 35.18, 129.08),       // Busan
        ("azure", "indonesiacentral", -6.20, 106.85), // Jakarta
        ("azure", "malaysiawest", 3.14, 101.69),      // Kuala Lumpur
        ("azure", "australiaeast", -33.87, 151.21),   // New South Wales
        ("azure", "australiasoutheast", -37.81, 144.96), // Victoria
        ("azure", "australiacentral", -35.28, 149.13),   // Canberra
        ("azure", "australiacentral2", -35.28, 149.13),  // Canberra
        ("azure", "newzealandnorth", -36.85, 174.76), // Auckland
    ];

    private static readonly Dictionary<string, int> Ids = BuildIds();

    /// <summary>Number of regions with a known centre; ids run from 0 to Count - 1.</summary>
    public static int Count => Table.Length;

    /// <summary>The centre of a provider's region (case-insensitive), if known.</summary>
    public static bool TryGet(string provider, string region, out GeoPoint centre)
    {
        var id = IdOf(provider, region);
        centre = id >= 0 ? At(id) : default;
        return id >= 0;
    }

    /// <summary>Dense id of a known region, or -1: lets a query cache one distance per region.</summary>
    public static int IdOf(string provider, string region) =>
        Ids.TryGetValue(Key(provider, region), out var id) ? id : -1;

    public static GeoPoint At(int id) => new(Table[id].Lat, Table[id].Lon);

    /// <summary>Great-circle (haversine) distance in kilometres.</summary>
    public static double DistanceKm(GeoPoint a, GeoPoint b)
    {
        const double EarthRadiusKm = 6371.0088;
        static double Rad(double degrees) => degrees * Math.PI / 180;
        var dLat = Rad(b.Latitude - a.Latitude);
        var dLon = Rad(b.Longitude - a.Longitude);
        var h = Math.Sin(dLat / 2) * Math.Sin(dLat / 2)
              + Math.Cos(Rad(a.Latitude)) * Math.Cos(Rad(b.Latitude)) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * EarthRadiusKm * Math.Asin(Math.Min(1, Math.Sqrt(h)));
    }

    /// <summary>Distance in kilometres between two known regions, from a table computed once.</summary>
    public static double DistanceKm(int a, int b) => Matrix.Value[a * Table.Length + b];

    private static readonly Lazy<double[]> Matrix = new(() =>
    {
        var n = Table.Length;
        var matrix = new double[n * n];
        for (var a = 0; a < n; a++)
            for (var b = 0; b < n; b++)
                matrix[a * n + b] = DistanceKm(At(a), At(b));
        return matrix;
    });

    private static string Key(string provider, string region) => $"{provider.ToLowerInvariant()}/{region.ToLowerInvariant()}";

    private static Dictionary<string, int> BuildIds()
    {
        var ids = new Dictionary<string, int>(Table.Length, StringComparer.Ordinal);
        for (var i = 0; i < Table.Length; i++) ids.Add(Key(Table[i].Provider, Table[i].Region), i);
        return ids;
    }
}
