using OnnxTrainer.Training;
using Xunit;

namespace OnnxTrainer.Tests.Training;

public class AvailableMemoryTests
{
    private const string MemInfo = "MemTotal:       24683520 kB\nMemFree:        20167680 kB\nMemAvailable:    8388608 kB\n";

    private static Func<string, string?> Files(params (string Path, string Text)[] files) =>
        path => files.FirstOrDefault(f => f.Path == path).Text;

    [Fact]
    public void Read_NoCgroupLimit_MemAvailable()
    {
        var available = AvailableMemory.Read(null, Files(("/proc/meminfo", MemInfo), ("/sys/fs/cgroup/memory.max", "max\n")));

        Assert.Equal(new AvailableMemory(8L << 30, "MemAvailable"), available);
    }

    [Fact]
    public void Read_CgroupLimitBelowMemAvailable_TheCgroupsRemainder()
    {
        var available = AvailableMemory.Read(null, Files(("/proc/meminfo", MemInfo),
            ("/sys/fs/cgroup/memory.max", "4294967296\n"), ("/sys/fs/cgroup/memory.current", "1073741824\n")));

        Assert.Equal(new AvailableMemory(3L << 30, "cgroup limit"), available);
    }

    [Fact]
    public void Read_CgroupV1Unlimited_MemAvailable()
    {
        var available = AvailableMemory.Read(null, Files(("/proc/meminfo", MemInfo),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n"), ("/sys/fs/cgroup/memory/memory.usage_in_bytes", "1000\n")));

        Assert.Equal("MemAvailable", available?.Source);
    }

    [Theory]
    [InlineData("2G", 2L << 30)]
    [InlineData("512M", 512L << 20)]
    [InlineData("1000", 1000)]
    public void Read_LimitVariable_OverridesTheMachine(string limit, long expected)
    {
        Assert.Equal(new AvailableMemory(expected, AvailableMemory.LimitVariable), AvailableMemory.Read(limit, Files(("/proc/meminfo", MemInfo))));
    }

    [Fact]
    public void Read_LimitVariableNotBytes_RefusedNamingIt()
    {
        var e = Assert.Throws<MemoryBudgetException>(() => AvailableMemory.Read("lots", Files()));

        Assert.Equal($"{AvailableMemory.LimitVariable}='lots' is not a number of bytes (e.g. 4G)", e.Message);
    }

    [Fact]
    public void Read_NothingReadable_Null()
    {
        Assert.Null(AvailableMemory.Read(null, Files()));
    }
}
