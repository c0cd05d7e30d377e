// The JSON form of the records stored in safetensors metadata (ModelSpec, DataInfo, the trainer state): snake_case
// keys, and one error naming the file and what failed to parse.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Standalone.Models.IO;

public static class MetadataJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Parses json as a T, or throws InvalidDataException naming source and what (e.g. "model description").</summary>
    public static T Read<T>(string json, string source, string what) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is JsonException or NotSupportedException)
        {
            throw new InvalidDataException($"{source}: the {what} '{json}' is not valid ({e.Message})", e);
        }
    }
}
