// The JSON form of the records stored in safetensors metadata (ModelSpec, DataInfo, the trainer state): snake_case
// keys, and one error naming the file, the record and the field that failed to parse, in words rather than .NET types.
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Standalone.Models.IO;

public static partial class MetadataJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Parses json as a T, or throws InvalidDataException naming source, what (e.g. "model description") and the field.</summary>
    public static T Read<T>(string json, string source, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException("it is null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            string shown = json.Length <= 200 ? json : json[..200] + "…";
            throw new InvalidDataException($"{source}: the {what} is not valid ({Describe(e)}): '{shown}'", e);
        }
    }

    /// <summary>"field num_classes must be a whole number" rather than "could not be converted to System.Int32".</summary>
    private static string Describe(Exception e)
    {
        string field = e is JsonException { Path: { Length: > 1 } path } ? $"field {path.TrimStart('$', '.')}" : "a field";
        var type = TypePattern().Match(e.Message);
        if (type.Success)
            return $"{field} must be {type.Groups[1].Value switch
            {
                "System.Int32" or "System.Int64" => "a whole number",
                "System.UInt64" => "a non-negative whole number",
                "System.Double" or "System.Single" => "a number",
                "System.Boolean" => "true or false",
                "System.String" => "a string",
                var t when t.EndsWith("[]", StringComparison.Ordinal) || t.Contains("List") => "a list",
                var t when t.Contains("Dictionary") => "an object",
                _ => "a record",
            }}";
        if (e.Message.Contains("missing required properties", StringComparison.Ordinal))
            return "required fields are missing: " + string.Join(", ", RequiredPattern().Matches(e.Message).Select(m => m.Groups[1].Value));
        return e is JsonException ? $"it is not the expected JSON at {field}" : e.Message.TrimEnd('.');
    }

    [GeneratedRegex(@"could not be converted to ([\w.\[\]`,]+)")]
    private static partial Regex TypePattern();

    [GeneratedRegex(@"'(\w+)'")]
    private static partial Regex RequiredPattern();
}
