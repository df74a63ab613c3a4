using System.Diagnostics;
using System.Globalization;

namespace OnnxTrainer.Training;

/// <summary>How far one phase of <see cref="LiveProgress"/> has come: units done, images per second, the loss so far.</summary>
public sealed class PhaseProgress
{
    private readonly Action<PhaseProgress> _changed;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly int _startedAt;
    private long _images;
    private double _lossSum;
    private long _lossImages;

    internal PhaseProgress(string phase, int total, string unit, int done, Action<PhaseProgress> changed)
    {
        Phase = phase;
        Total = total;
        Unit = unit;
        Done = _startedAt = done;
        _changed = changed;
    }

    public string Phase { get; }

    public int Total { get; }

    /// <summary>What is counted: batches, images.</summary>
    public string Unit { get; }

    public int Done { get; private set; }

    /// <summary>Records <paramref name="units"/> more done, covering <paramref name="images"/> images, with their mean <paramref name="loss"/> if known.</summary>
    public void Advance(int units, int images, double? loss = null)
    {
        Done += units;
        _images += images;
        if (loss is double l && double.IsFinite(l))
        {
            _lossSum += l * images;
            _lossImages += images;
        }
        _changed(this);
    }

    /// <summary>"epoch 3/15: 120/500 batches (24 %), 412 img/s, loss 0.8123, ETA 0:42".</summary>
    public string Describe(bool withEta)
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        var text = string.Create(CultureInfo.InvariantCulture, $"{Phase}: {Done}/{Total} {Unit}");
        if (withEta) text += string.Create(CultureInfo.InvariantCulture, $" ({100.0 * Done / Math.Max(Total, 1):F0} %)");
        if (_images > 0 && seconds > 0) text += string.Create(CultureInfo.InvariantCulture, $", {_images / seconds:F0} img/s");
        if (_lossImages > 0) text += string.Create(CultureInfo.InvariantCulture, $", loss {_lossSum / _lossImages:F4}");
        int doneHere = Done - _startedAt;
        if (withEta && doneHere > 0 && Done < Total)
            text += $", ETA {TimeSpan.FromSeconds(seconds / doneHere * (Total - Done)):m\\:ss}";
        return text;
    }
}
