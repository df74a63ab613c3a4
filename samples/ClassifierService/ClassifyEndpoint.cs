using OnnxTrainer.Inference.Preprocessing;

namespace ClassifierService;

/// <summary>
/// <c>POST /classify</c>: an encoded image (JPEG, PNG, BMP, GIF, WebP) as the raw body or as the file of a multipart
/// form; answers the top-k as JSON, 400 for a body that is not an image, 413 for one over <see cref="ClassifierSettings.MaxImageBytes"/>.
/// </summary>
public static class ClassifyEndpoint
{
    public static async Task<IResult> Handle(HttpRequest request, OnnxTrainer.Inference.ImageClassifier classifier, ClassifierSettings settings, CancellationToken cancellation)
    {
        if (request.ContentLength > settings.MaxImageBytes)
        {
            return TooLarge(settings);
        }

        byte[] image;
        try
        {
            var body = IsMultipart(request) ? await FormFile(request, cancellation) : request.Body;
            if (body is null)
            {
                return TypedResults.Problem("The multipart form has no file: send the image as a file field (curl -F image=@photo.jpg).", statusCode: StatusCodes.Status400BadRequest);
            }

            using var copy = new MemoryStream();
            await body.CopyToAsync(copy, cancellation);
            image = copy.ToArray();
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            // A chunked body (no Content-Length) is cut off by Kestrel's limit while it is read.
            return TooLarge(settings);
        }
        catch (InvalidDataException e)
        {
            return TypedResults.Problem($"Malformed multipart form: {e.Message}", statusCode: StatusCodes.Status400BadRequest);
        }

        if (image.Length == 0)
        {
            return TypedResults.Problem("Empty body: send an encoded image (JPEG, PNG, BMP, GIF, WebP) as the body or as a multipart file.", statusCode: StatusCodes.Status400BadRequest);
        }

        try
        {
            return TypedResults.Ok(new ClassifyResponse(classifier.Classify(image)));
        }
        catch (ImageDecodeException e)
        {
            return TypedResults.Problem($"Not a readable image: {e.Message}", statusCode: StatusCodes.Status400BadRequest);
        }
    }

    /// <summary>Only multipart is a form: any other body is the image itself, whatever its type says (curl --data-binary calls it urlencoded).</summary>
    private static bool IsMultipart(HttpRequest request) =>
        request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>The form's <c>image</c> file, else its only file; null when it carries none.</summary>
    private static async Task<Stream?> FormFile(HttpRequest request, CancellationToken cancellation)
    {
        var form = await request.ReadFormAsync(cancellation);
        var file = form.Files.GetFile("image") ?? (form.Files.Count == 1 ? form.Files[0] : null);
        return file?.OpenReadStream();
    }

    private static IResult TooLarge(ClassifierSettings settings) =>
        TypedResults.Problem($"The body is larger than {settings.MaxImageBytes} bytes (Classifier:MaxImageBytes).", statusCode: StatusCodes.Status413PayloadTooLarge);
}
