using System.Buffers;

namespace Greyd.Policy;

/// <summary>Supplies the value of a reply token (<c>%s</c>, <c>%r</c>, <c>%t</c>, ...) to a <see cref="ReplyTemplate"/>.</summary>
public interface ITemplateValues
{
    void Write(char token, IBufferWriter<byte> output);
}
