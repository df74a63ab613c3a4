// A web service that serves a classifier exported by onnx-trainer:
//   dotnet run --project samples/ClassifierService -c Release -- --model artifacts/<run>/model.onnx [--urls http://0.0.0.0:5000]
//   curl --data-binary @photo.jpg http://localhost:5000/classify        (or -F image=@photo.jpg)
//   curl http://localhost:5000/model
using ClassifierService;

await ClassifierApp.Build(args).RunAsync();
