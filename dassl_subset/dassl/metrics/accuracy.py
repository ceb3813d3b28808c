def compute_accuracy(output, target, topk=(1,)):
    """Top-k accuracies in percent.

    ``output``: logits [batch, num_classes] (or a tuple/list whose first item is);
    ``target``: labels [batch]. Returns one 1-element tensor per k.
    """
    if isinstance(output, (tuple, list)):
        output = output[0]
    batch_size = target.size(0)
    top_predictions = output.topk(max(topk), dim=1, largest=True, sorted=True)[1]  # [batch, maxk]
    hits = top_predictions.eq(target.view(-1, 1))  # [batch, maxk]
    return [
        hits[:, :k].reshape(-1).float().sum(0, keepdim=True).mul_(100.0 / batch_size) for k in topk
    ]
