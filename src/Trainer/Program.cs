using OnnxTrainer.Cli;

return CommandLine.Run(args);
